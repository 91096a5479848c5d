using System.Globalization;
using MoeMesh.Dashboard.Hosting;

namespace MoeMesh.Dashboard;

/// <summary>
/// Configuration of the web dashboard and the OpenAI-compatible API, bound from the
/// <c>MoeMesh:Dashboard</c> section and validated when the host starts.
/// </summary>
public sealed class MoeMeshDashboardOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "MoeMesh:Dashboard";

    /// <summary>Where the dashboard listens when no URL is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>The shortest API key accepted.</summary>
    public const int MinimumKeyLength = 16;

    /// <summary>True to run the dashboard and the API in the silo process (read by the silo host).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// Addresses to listen on, such as <c>http://0.0.0.0:5080</c> or <c>http://127.0.0.1:0</c> (any free port).
    /// Hosts must be IP addresses, <c>localhost</c>, <c>*</c> or <c>+</c>. Empty means <see cref="DefaultUrl"/>.
    /// Without <see cref="ApiKeys"/> every address is narrowed to the loopback interface.
    /// </summary>
    public List<string> Urls { get; set; } = [];

    /// <summary>
    /// Keys that open the API (<c>Authorization: Bearer &lt;key&gt;</c>) and the dashboard (a login that sets
    /// an HttpOnly cookie). Empty means no key: the server then binds to the loopback interface only.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>The largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>How often the live feed reads the mesh monitor, in milliseconds.</summary>
    public int LiveIntervalMs { get; set; } = 500;

    /// <summary>How many recent routing decisions a newly opened page shows.</summary>
    public int RecentDecisions { get; set; } = 50;

    /// <summary>
    /// Mount the Orleans dashboard (grain-level views) under <c>/orleans</c>. The silos must run the Orleans
    /// dashboard's silo services, which the MoeMesh silo host adds when this is true.
    /// </summary>
    public bool OrleansDashboard { get; set; } = true;

    /// <summary>A PFX certificate for <c>https</c> URLs.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The password of <see cref="CertificatePath"/>, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Problems with the options, each naming its key; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        for (var i = 0; i < Urls.Count; i++)
        {
            if (!ListenAddress.TryParse(Urls[i], out var address, out var error))
            {
                problems.Add($"{SectionName}:Urls:{i} '{Urls[i]}': {error}");
            }
            else if (address.IsHttps && string.IsNullOrWhiteSpace(CertificatePath))
            {
                problems.Add($"{SectionName}:Urls:{i} '{Urls[i]}' is https but {SectionName}:CertificatePath is not set");
            }
        }

        if (!string.IsNullOrWhiteSpace(CertificatePath) && !File.Exists(CertificatePath))
        {
            problems.Add($"{SectionName}:CertificatePath '{CertificatePath}' does not exist");
        }

        for (var i = 0; i < ApiKeys.Count; i++)
        {
            var key = ApiKeys[i];
            if (string.IsNullOrEmpty(key) || key.Length < MinimumKeyLength)
            {
                problems.Add($"{SectionName}:ApiKeys:{i} is too short: API keys need at least {MinimumKeyLength} characters (for example the output of 'openssl rand -hex 24')");
            }
            else if (key.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                problems.Add($"{SectionName}:ApiKeys:{i} contains white space or control characters");
            }
        }

        if (MaxRequestBodyBytes is < 1024 or > 64L * 1024 * 1024)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:MaxRequestBodyBytes must be between 1024 and 67108864, got {MaxRequestBodyBytes}"));
        }

        if (LiveIntervalMs is < 100 or > 60_000)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:LiveIntervalMs must be between 100 and 60000, got {LiveIntervalMs}"));
        }

        if (RecentDecisions is < 0 or > 500)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:RecentDecisions must be between 0 and 500, got {RecentDecisions}"));
        }

        return problems;
    }
}
