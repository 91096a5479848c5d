using Microsoft.Extensions.Options;

namespace MoeMesh.Client;

/// <summary>Checks <see cref="MoeMeshClientOptions"/> at start; generated from its data annotations and <see cref="MoeMeshClientOptions.Validate"/>.</summary>
[OptionsValidator]
internal sealed partial class MoeMeshClientOptionsValidator : IValidateOptions<MoeMeshClientOptions>;
