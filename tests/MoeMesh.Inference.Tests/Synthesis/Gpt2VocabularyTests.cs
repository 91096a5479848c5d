using Microsoft.ML.Tokenizers;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Synthesis;

[Collection(TinyModelsCollection.Name)]
public sealed class Gpt2VocabularyTests(TinyModels models)
{
    [Fact]
    public void The_name_resolves_to_a_vocab_only_gguf_with_gpt2s_tokens_and_merges()
    {
        var path = VocabularyLocator.Resolve(Gpt2Vocabulary.Name);
        var file = GgufReader.Read(path);
        Assert.Equal("gpt2", file["tokenizer.ggml.model"]!.AsString());
        Assert.Equal(50257, file["tokenizer.ggml.tokens"]!.ArrayLength);
        Assert.True(file["tokenizer.ggml.merges"]!.ArrayLength > 49_000);
        Assert.Equal("<|endoftext|>", file["tokenizer.ggml.tokens"]!.AsArray<string>()[50256]);
    }

    [Fact]
    public async Task A_model_with_the_gpt2_tokenizer_tokenizes_as_gpt2_does_and_generates()
    {
        using var directory = new TemporaryDirectory();
        var model = TinyLlamaSynthesizer.Write(directory.File("gpt2.gguf"), new TinyLlamaOptions { VocabularyPath = VocabularyLocator.Resolve(Gpt2Vocabulary.Name) });
        await using var engine = await models.LoadAsync(model.Path);
        Assert.Equal(50257, engine.VocabularySize);

        const string text = "Hello world, the mesh answers: 42 résumés.";
        var reference = TiktokenTokenizer.CreateForModel("gpt2").EncodeToIds(text);
        Assert.Equal(reference, engine.Tokenize(text));
        Assert.Equal(text, engine.Detokenize(engine.Tokenize(text)));

        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("Hello", 6));
        Assert.Equal(6, result.Metrics.GeneratedTokens);
    }
}
