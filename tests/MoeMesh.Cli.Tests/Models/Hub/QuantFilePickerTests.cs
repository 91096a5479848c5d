using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Tests.Models.Hub;

public sealed class QuantFilePickerTests
{
    private static readonly string[] Files =
    [
        "README.md", "Model-IQ4_XS.gguf", "Model-Q4_K_S.gguf", "Model-Q4_K_M.gguf", "Model-Q8_0.gguf", "mmproj-Model-Q8_0.gguf", "sub/Model-Q4_K_M-extra.gguf",
    ];

    [Theory]
    [InlineData("Q4_K_M", "Model-Q4_K_M.gguf")]
    [InlineData("q4_k_s", "Model-Q4_K_S.gguf")]
    [InlineData("Q8_0", "Model-Q8_0.gguf")]
    [InlineData("IQ4_XS", "Model-IQ4_XS.gguf")]
    public void Picks_the_file_whose_name_carries_the_quantisation_as_a_whole_token(string quant, string expected)
        => Assert.Equal(expected, QuantFilePicker.Pick(Files, quant, "org/model"));

    [Fact]
    public void A_missing_quantisation_lists_the_gguf_files_there_are()
    {
        var error = Assert.Throws<HubException>(() => QuantFilePicker.Pick(Files, "Q6_K", "org/model"));

        Assert.Equal(HubFailure.NoMatchingFile, error.Failure);
        Assert.Contains("org/model has no Q6_K GGUF file", error.Message);
        Assert.Contains("Model-Q8_0.gguf", error.Message);
    }

    [Fact]
    public void A_model_split_over_several_files_is_refused_clearly()
    {
        var error = Assert.Throws<HubException>(() => QuantFilePicker.Pick(["Big-Q4_K_M-00001-of-00003.gguf", "Big-Q4_K_M-00002-of-00003.gguf"], "Q4_K_M", "org/big"));

        Assert.Contains("split into 3 files", error.Message);
    }

    [Fact]
    public void A_malformed_quantisation_is_bad_input()
        => Assert.Throws<ArgumentException>(() => QuantFilePicker.Pick(Files, "../x", "org/model"));
}
