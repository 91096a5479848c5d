using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Cli.Tests.Models.Hub;

/// <summary>Synthesized GGUF models as bytes, to be served by the fake hub.</summary>
internal static class HubTestModels
{
    private static readonly Lazy<byte[]> Tiny = new(() => Synthesize("tiny-hub-model", 64, 2));

    /// <summary>A tiny llama model (2 layers, hidden 64, about 0.3 MB), the same bytes every time.</summary>
    public static byte[] TinyGguf => Tiny.Value;

    public static byte[] Synthesize(string name, int hidden, int layers, ulong seed = 7)
    {
        var folder = Directory.CreateTempSubdirectory("moemesh-hub-model-").FullName;
        try
        {
            var model = TinyLlamaSynthesizer.Write(Path.Combine(folder, name + ".gguf"), new TinyLlamaOptions { Name = name, EmbeddingLength = hidden, Layers = layers, Seed = seed });
            return File.ReadAllBytes(model.Path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
