using System.Text.Json;
using MoeMesh.Inference.Gguf;

namespace MoeMesh.Cli.Tests.Models;

public sealed class ModelsSynthMoeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("moemesh-synth-moe-").FullName;

    [Theory]
    [InlineData("llama", "f32")]
    [InlineData("qwen2moe", "f16")]
    [InlineData("qwen3moe", "q8_0")]
    public async Task WritesAnMoeGgufOfTheArchitecture(string architecture, string type)
    {
        var (code, output, error) = await CliRunner.RunAsync(
            "models", "synth", "--moe", "--arch", architecture, "--layers", "3", "--hidden", "64", "--experts", "6", "--top-k", "2",
            "--expert-ff", "32", "--type", type, "--out", _folder, "--json");

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var path = json.RootElement.GetProperty("model").GetString()!;
        var file = GgufReader.Read(path);
        Assert.Equal(architecture, file.Architecture);
        Assert.Equal("no_vocab", file.TryGetString("tokenizer.ggml.model"));
        Assert.Equal(6, file.TryGetInteger($"{architecture}.expert_count"));
        Assert.Equal(2, file.TryGetInteger($"{architecture}.expert_used_count"));
        Assert.Equal([64L, 32, 6], file.FindTensor("blk.2.ffn_gate_exps.weight")!.Shape);
        Assert.Equal([32L, 64, 6], file.FindTensor("blk.2.ffn_down_exps.weight")!.Shape);
        Assert.Equal(architecture == "qwen2moe", file.FindTensor("blk.0.ffn_gate_inp_shexp.weight") is not null);
        Assert.Equal(architecture == "qwen3moe", file.FindTensor("blk.0.attn_q_norm.weight") is not null);
    }

    [Fact]
    public async Task UnknownArchitectureIsBadInput()
    {
        var (code, _, error) = await CliRunner.RunAsync("models", "synth", "--moe", "--arch", "gpt2", "--out", _folder);

        Assert.Equal(2, code);
        Assert.Contains("architecture 'gpt2'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TopKAboveTheExpertsIsBadInput()
    {
        var (code, _, error) = await CliRunner.RunAsync("models", "synth", "--moe", "--experts", "2", "--top-k", "3", "--out", _folder);

        Assert.Equal(2, code);
        Assert.Contains("top-k", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
