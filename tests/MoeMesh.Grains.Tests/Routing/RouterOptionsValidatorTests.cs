using MoeMesh.Grains.Routing;

namespace MoeMesh.Grains.Tests.Routing;

public sealed class RouterOptionsValidatorTests
{
    [Fact]
    public void Defaults_are_valid()
        => Assert.True(new RouterOptionsValidator().Validate(null, new RouterOptions()).Succeeded);

    [Fact]
    public void Each_bad_value_is_reported_under_its_key()
    {
        var result = new RouterOptionsValidator().Validate(null, new RouterOptions
        {
            MaxFailovers = 9,
            DefaultK = 0,
            Embeddings = "word2vec",
            BatchWindow = TimeSpan.FromSeconds(6),
            FitFile = "/nowhere/fit.json",
        });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains("MoeMesh:Routing:MaxFailovers must be between 0 and 8.", failures);
        Assert.Contains(failures, f => f.StartsWith("MoeMesh:Routing:DefaultK must be between 1 and", StringComparison.Ordinal));
        Assert.Contains("MoeMesh:Routing:Embeddings must be none or minilm.", failures);
        Assert.Contains("MoeMesh:Routing:BatchWindow must be between 0 and 5 seconds.", failures);
        Assert.Contains("MoeMesh:Routing:FitFile must be a file written by 'moemesh eval --save-fit'.", failures);
        Assert.Contains("MoeMesh:Routing:FitFile needs MoeMesh:Routing:TrainingData too (for the cost tables).", failures);
        Assert.Equal(6, failures.Count);
    }
}
