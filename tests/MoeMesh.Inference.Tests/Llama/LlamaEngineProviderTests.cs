using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Inference.Engines;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Llama;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama;

[Collection(TinyModelsCollection.Name)]
public sealed class LlamaEngineProviderTests(TinyModels models)
{
    [Fact]
    public void The_provider_serves_the_llama_cpp_engine()
    {
        Assert.Equal(ExpertEngines.LlamaCpp, models.Provider.Engine);
    }

    [Fact]
    public async Task Loading_reports_progress_and_the_engine_describes_itself()
    {
        var reports = new List<double>();
        var progress = new SynchronousProgress(reports);
        IExpertEngineProvider provider = models.Provider;
        await using var engine = await provider.LoadAsync(TinyModels.Manifest(models.Default), progress);

        Assert.Equal("tiny", engine.Manifest.Id);
        Assert.True(Path.IsPathRooted(engine.Manifest.ModelPath));
        Assert.True(engine.ResidentBytes > new FileInfo(models.Default).Length / 2);
        Assert.NotEmpty(reports);
        Assert.Equal(1.0, reports[^1], 3);
    }

    [Fact]
    public async Task A_missing_file_makes_the_expert_unavailable()
    {
        var error = await LoadFails(TinyModels.Manifest(Path.Combine(models.Folder, "absent.gguf")));
        Assert.Contains("does not exist", error.Message);

        IExpertEngineProvider provider = models.Provider;
        await Assert.ThrowsAsync<ExpertUnavailableException>(() => provider.LoadAsync(TinyModels.Manifest(Path.Combine(models.Folder, "absent.gguf"))));
    }

    [Fact]
    public async Task A_truncated_model_is_rejected_before_llama_cpp_sees_it()
    {
        using var directory = new TemporaryDirectory();
        var bytes = await File.ReadAllBytesAsync(models.Default);
        var truncated = directory.File("truncated.gguf");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);

        var error = await LoadFails(TinyModels.Manifest(truncated));
        Assert.Contains("not a valid GGUF", error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.IsType<GgufFormatException>(error.InnerException);
    }

    [Fact]
    public async Task A_file_that_is_not_gguf_is_rejected()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File("notes.gguf");
        await File.WriteAllTextAsync(path, "these are not model weights");
        var error = await LoadFails(TinyModels.Manifest(path));
        Assert.Contains("magic", error.Message);
    }

    [Fact]
    public async Task Metadata_that_would_crash_llama_cpp_is_rejected()
    {
        using var directory = new TemporaryDirectory();
        var source = GgufReader.Read(models.Default);
        var writer = new GgufWriter();
        foreach (var (key, value) in source.Metadata)
        {
            writer.Set(key, value);
        }

        writer.Set("tokenizer.ggml.scores", GgufValue.FromArray(new float[3]));
        writer.Set("llama.rope.dimension_count", 7u);
        writer.Set("tokenizer.ggml.eos_token_id", 100000u);
        writer.AddTensor("token_embd.weight", GgmlType.F32, [4], new byte[16]);
        var path = directory.File("bad.gguf");
        writer.WriteTo(path);

        var error = await LoadFails(TinyModels.Manifest(path));
        Assert.Contains("tokenizer.ggml.scores", error.Message);
        Assert.Contains("rope.dimension_count", error.Message);
        Assert.Contains("eos_token_id", error.Message);
    }

    [Fact]
    public async Task A_model_llama_cpp_refuses_reports_llama_cpp_s_reason()
    {
        using var directory = new TemporaryDirectory();
        var source = GgufReader.Read(models.Default);
        var writer = new GgufWriter();
        foreach (var (key, value) in source.Metadata)
        {
            writer.Set(key, value);
        }

        // Well-formed GGUF, but the tensors a llama needs are missing.
        writer.AddTensor("token_embd.weight", GgmlType.F32, [64, 512], new byte[64 * 512 * 4]);
        var path = directory.File("incomplete.gguf");
        writer.WriteTo(path);

        var error = await LoadFails(TinyModels.Manifest(path));
        Assert.Contains("llama.cpp could not load", error.Message);
        Assert.Contains("tensor", error.Message);
    }

    [Theory]
    [InlineData("threads", "zero")]
    [InlineData("sequences", "0")]
    [InlineData("sequences", "65")]
    [InlineData("gpu_layers", "-2")]
    [InlineData("mmap", "maybe")]
    public async Task Invalid_engine_options_in_the_manifest_are_refused(string key, string value)
    {
        var error = await LoadFails(TinyModels.Manifest(models.Default, engineOptions: new Dictionary<string, string> { [key] = value }));
        Assert.Contains($"'{key}'", error.Message);
    }

    [Fact]
    public async Task A_manifest_for_another_engine_or_without_a_path_is_refused()
    {
        Assert.Contains("'onnx' engine", (await LoadFails(TinyModels.Manifest(models.Default) with { Engine = ExpertEngines.Onnx })).Message);
        Assert.Contains("modelPath", (await LoadFails(TinyModels.Manifest(models.Default) with { ModelPath = null })).Message);
    }

    [Fact]
    public async Task A_failed_load_leaves_the_other_experts_serving()
    {
        await using var healthy = await models.LoadAsync();
        using var directory = new TemporaryDirectory();
        var broken = directory.File("broken.gguf");
        var bytes = await File.ReadAllBytesAsync(models.Default);
        await File.WriteAllBytesAsync(broken, bytes[..1000]);

        await LoadFails(TinyModels.Manifest(broken));
        var result = await TinyModels.RunAsync(healthy, TinyModels.Greedy("still serving?", 6));
        Assert.Equal(6, result.Metrics.GeneratedTokens);

        await using var another = await models.LoadAsync();
        Assert.Equal(6, (await TinyModels.RunAsync(another, TinyModels.Greedy("and loading", 6))).Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task Cancelling_a_load_stops_it()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => models.Provider.LoadAsync(TinyModels.Manifest(models.Default), cancellationToken: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void Invalid_engine_options_fail_when_the_provider_is_made()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => new LlamaEngineProvider(new LlamaEngineOptions { Threads = 0, SequencesPerContext = 100, BatchSize = 0 }));
        Assert.Contains("Threads", error.Message);
        Assert.Contains("SequencesPerContext", error.Message);
        Assert.Contains("BatchSize", error.Message);
    }

    private async Task<ExpertUnavailableException> LoadFails(ExpertManifest manifest)
    {
        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => models.Provider.LoadAsync(manifest));
        Assert.Contains($"Expert '{manifest.Id}' is unavailable", error.Message);
        return error;
    }

    private sealed class SynchronousProgress(List<double> reports) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
