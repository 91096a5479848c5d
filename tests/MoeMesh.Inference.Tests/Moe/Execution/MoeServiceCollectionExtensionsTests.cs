using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeMesh.Inference.Moe;
using MoeMesh.Inference.Moe.Execution;

namespace MoeMesh.Inference.Tests.Moe.Execution;

public sealed class MoeServiceCollectionExtensionsTests
{
    [Fact]
    public void AddMoeModelsRegistersTheOnnxLoader()
    {
        using var provider = new ServiceCollection().AddMoeModels(o => o.Threads = 2).BuildServiceProvider();

        Assert.IsType<OnnxMoeModelLoader>(provider.GetRequiredService<IMoeModelLoader>());
        Assert.Equal(2, provider.GetRequiredService<IOptions<MoeExecutionOptions>>().Value.Threads);
    }

    [Fact]
    public void ImpossibleThreadCountsFailValidation()
    {
        using var provider = new ServiceCollection().AddMoeModels(o => o.Threads = 0).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MoeExecutionOptions>>().Value);
        Assert.Contains("threads must be 1..256", error.Message, StringComparison.Ordinal);
    }
}
