using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Synthesis;

public sealed class TinyLlamaSynthesizerTests
{
    [Fact]
    public void The_same_options_write_the_same_bytes_and_another_seed_does_not()
    {
        using var directory = new TemporaryDirectory();
        var first = TinyLlamaSynthesizer.Write(directory.File("a.gguf"), new TinyLlamaOptions { Seed = 3 });
        var second = TinyLlamaSynthesizer.Write(directory.File("b.gguf"), new TinyLlamaOptions { Seed = 3 });
        var other = TinyLlamaSynthesizer.Write(directory.File("c.gguf"), new TinyLlamaOptions { Seed = 4 });

        Assert.Equal(File.ReadAllBytes(first.Path), File.ReadAllBytes(second.Path));
        Assert.NotEqual(File.ReadAllBytes(first.Path), File.ReadAllBytes(other.Path));
    }

    [Fact]
    public void The_file_is_a_llama_model_with_the_chosen_shape()
    {
        using var directory = new TemporaryDirectory();
        var options = new TinyLlamaOptions { Layers = 3, EmbeddingLength = 96, HeadCount = 6, KeyValueHeadCount = 2, FeedForwardLength = 160, ContextLength = 1024, VocabularySize = 400, WeightType = GgmlType.F16, Name = "shape-test" };
        var model = TinyLlamaSynthesizer.Write(directory.File("m.gguf"), options);
        var file = GgufReader.Read(model.Path);

        Assert.Equal("llama", file.Architecture);
        Assert.Equal("shape-test", file.Name);
        Assert.Equal(3, file.TryGetInteger("llama.block_count"));
        Assert.Equal(96, file.TryGetInteger("llama.embedding_length"));
        Assert.Equal(6, file.TryGetInteger("llama.attention.head_count"));
        Assert.Equal(2, file.TryGetInteger("llama.attention.head_count_kv"));
        Assert.Equal(160, file.TryGetInteger("llama.feed_forward_length"));
        Assert.Equal(1024, file.TryGetInteger("llama.context_length"));
        Assert.Equal(16, file.TryGetInteger("llama.rope.dimension_count"));
        Assert.Equal(400, file["tokenizer.ggml.tokens"]!.ArrayLength);
        Assert.Contains("<|im_start|>", file.TryGetString("tokenizer.chat_template"));
        Assert.Equal(3 + 9 * 3, file.Tensors.Count);
        Assert.Equal([96L, 400L], file.FindTensor("token_embd.weight")!.Shape);
        Assert.Equal([96L, 32L], file.FindTensor("blk.0.attn_k.weight")!.Shape);
        Assert.Equal([160L, 96L], file.FindTensor("blk.2.ffn_down.weight")!.Shape);
        Assert.Equal(GgmlType.F16, file.FindTensor("blk.1.attn_q.weight")!.Type);
        Assert.Equal(GgmlType.F32, file.FindTensor("output_norm.weight")!.Type);
        Assert.Equal(file.ParameterCount, model.ParameterCount);
        Assert.Equal(new FileInfo(model.Path).Length, model.FileBytes);
    }

    [Fact]
    public void The_built_in_vocabulary_has_specials_every_byte_and_learned_pieces()
    {
        using var directory = new TemporaryDirectory();
        var file = GgufReader.Read(TinyLlamaSynthesizer.Write(directory.File("m.gguf"), new TinyLlamaOptions()).Path);
        var tokens = file["tokenizer.ggml.tokens"]!.AsArray<string>();
        var types = file["tokenizer.ggml.token_type"]!.AsArray<int>();

        Assert.Equal(["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"], tokens[..5]);
        Assert.Equal(256, types.Count(t => t == 6));
        Assert.Contains("<0xE2>", tokens);
        Assert.Contains("\u2581the", tokens);
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
        Assert.Equal(tokens.Length, file["tokenizer.ggml.scores"]!.ArrayLength);
    }

    [Fact]
    public void A_tokenizer_can_be_copied_in_from_another_gguf()
    {
        using var directory = new TemporaryDirectory();
        var vocabulary = TinyLlamaSynthesizer.Write(directory.File("source.gguf"), new TinyLlamaOptions { VocabularySize = 1024, Seed = 3 }).Path;
        var model = TinyLlamaSynthesizer.Write(directory.File("m.gguf"), new TinyLlamaOptions { VocabularyPath = vocabulary });
        var file = GgufReader.Read(model.Path);
        var source = GgufReader.Read(vocabulary);

        Assert.Equal(source["tokenizer.ggml.tokens"], file["tokenizer.ggml.tokens"]);
        Assert.Equal(source["tokenizer.ggml.tokens"]!.ArrayLength, model.VocabularySize);
        Assert.Equal([64L, (long)model.VocabularySize], file.FindTensor("output.weight")!.Shape);
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem_named()
    {
        using var directory = new TemporaryDirectory();
        var error = Assert.Throws<ArgumentException>(() => TinyLlamaSynthesizer.Write(
            directory.File("m.gguf"),
            new TinyLlamaOptions { Layers = 0, EmbeddingLength = 60, HeadCount = 7, VocabularySize = 10, WeightType = GgmlType.Q4_0 }));
        Assert.Contains("layers", error.Message);
        Assert.Contains("heads (7)", error.Message);
        Assert.Contains("vocabulary size", error.Message);
        Assert.Contains("weight type", error.Message);
        Assert.Empty(Directory.GetFiles(directory.Path));
    }
}
