using MoeMesh.Experts;

namespace MoeMesh.Abstractions.Tests.Experts;

public sealed class ExpertManifestTests
{
    [Fact]
    public void Weight_bytes_follow_parameters_and_quantisation()
    {
        var manifest = new ExpertManifest { Id = "m", Engine = ExpertEngines.Replay, ParameterCount = 8_000_000_000, Quantization = "Q4_K_M" };

        Assert.Equal(4_850_000_000, manifest.WeightBytes);
        Assert.Equal(manifest.WeightBytes, manifest.ActiveWeightBytes);
    }

    [Fact]
    public void Mixture_of_experts_reads_only_active_weights_per_token()
    {
        var mixtral = new ExpertManifest
        {
            Id = "mixtral",
            Engine = ExpertEngines.Replay,
            ParameterCount = 46_700_000_000,
            ActiveParameterCount = 12_900_000_000,
            Quantization = "Q4_K_M",
        };

        Assert.Equal(mixtral.WeightBytes * 12.9 / 46.7, mixtral.ActiveWeightBytes, 0.001 * mixtral.ActiveWeightBytes);
    }

    [Fact]
    public void Declared_size_wins_over_the_estimate()
    {
        var manifest = new ExpertManifest { Id = "m", Engine = ExpertEngines.LlamaCpp, ModelPath = "m.gguf", ParameterCount = 1000, ModelSizeBytes = 123 };

        Assert.Equal(123, manifest.WeightBytes);
    }

    [Fact]
    public void Active_parameters_above_the_total_are_rejected()
    {
        var manifest = new ExpertManifest { Id = "m", Engine = ExpertEngines.Replay, ParameterCount = 10, ActiveParameterCount = 20 };

        Assert.Contains(ExpertManifestValidator.Validate(manifest), p => p.Contains("'activeParameterCount' (20)", StringComparison.Ordinal));
    }

    [Fact]
    public void Llama_experts_need_a_model_path()
        => Assert.Contains(
            ExpertManifestValidator.Validate(new ExpertManifest { Id = "m", Engine = ExpertEngines.LlamaCpp }),
            p => p.Contains("'modelPath' is required", StringComparison.Ordinal));

    [Theory]
    [InlineData("math/0", "math", 0)]
    [InlineData("a.b-c_d/12", "a.b-c_d", 12)]
    public void Replica_keys_round_trip(string key, string expert, int replica)
    {
        var parsed = ExpertReplica.Parse(key);

        Assert.Equal(new ExpertReplica(expert, replica), parsed);
        Assert.Equal(key, parsed.GrainKey);
    }

    [Theory]
    [InlineData("math")]
    [InlineData("/3")]
    [InlineData("math/-1")]
    [InlineData("math/x")]
    public void Malformed_replica_keys_are_rejected(string key)
        => Assert.Throws<FormatException>(() => ExpertReplica.Parse(key));

    [Fact]
    public void Unknown_quantisation_names_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => Quantization.BitsPerWeight("Q13"));

        Assert.Contains("Q4_K_M", error.Message);
    }
}
