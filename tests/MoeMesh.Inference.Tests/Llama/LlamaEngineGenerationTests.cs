using MoeMesh.Generation;
using MoeMesh.Inference.Synthesis;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama;

[Collection(TinyModelsCollection.Name)]
public sealed class LlamaEngineGenerationTests(TinyModels models)
{
    [Fact]
    public async Task Greedy_output_for_a_fixed_seed_is_the_same_every_time_and_from_every_copy()
    {
        using var directory = new TemporaryDirectory();
        var copy = TinyLlamaSynthesizer.Write(directory.File("copy.gguf"), new TinyLlamaOptions { Seed = 7 }).Path;
        var request = TinyModels.Greedy("Which expert should answer a question about geometry?", 40);

        await using var first = await models.LoadAsync();
        await using var second = await models.LoadAsync(copy);
        var a = await TinyModels.RunAsync(first, request);
        var b = await TinyModels.RunAsync(first, request);
        var c = await TinyModels.RunAsync(second, request);

        Assert.Equal(40, a.Metrics.GeneratedTokens);
        Assert.False(string.IsNullOrWhiteSpace(a.Text));
        Assert.Equal(a.Text, b.Text);
        Assert.Equal(a.Text, c.Text);
    }

    [Fact]
    public async Task Different_prompts_lead_to_different_text()
    {
        await using var engine = await models.LoadAsync();
        string[] prompts = ["The router reads the question", "Small models answer the question", "energy budget", "bread recipe"];
        var texts = new List<string>();
        foreach (var prompt in prompts)
        {
            var result = await TinyModels.RunAsync(engine, TinyModels.Greedy(prompt, 24));
            Assert.Equal(24, result.Metrics.GeneratedTokens);
            texts.Add(result.Text);
        }

        // Greedy decoding is a function of the prompt: each prompt gets its own continuation, and asking again repeats it.
        Assert.Equal(prompts.Length, texts.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(texts[2], (await TinyModels.RunAsync(engine, TinyModels.Greedy(prompts[2], 24))).Text);
    }

    [Fact]
    public async Task Sampling_with_the_same_seed_repeats_and_other_seeds_differ()
    {
        await using var engine = await models.LoadAsync();
        GenerationRequest Sampled(uint seed) => GenerationRequest.FromPrompt("tell me something") with
        {
            MaxTokens = 30,
            Sampling = new SamplingOptions { Temperature = 3f, TopK = 0, TopP = 1f, MinP = 0f, Seed = seed },
        };

        var first = await TinyModels.RunAsync(engine, Sampled(5));
        var again = await TinyModels.RunAsync(engine, Sampled(5));
        Assert.Equal(first.Text, again.Text);

        var others = new List<string>();
        foreach (var seed in new uint[] { 1, 2, 3 })
        {
            others.Add((await TinyModels.RunAsync(engine, Sampled(seed))).Text);
        }

        Assert.Contains(others, text => text != first.Text);
    }

    [Fact]
    public async Task Top_k_of_one_is_greedy_and_every_filter_can_be_combined()
    {
        await using var engine = await models.LoadAsync();
        var greedy = await TinyModels.RunAsync(engine, TinyModels.Greedy("filters", 20));
        var topOne = await TinyModels.RunAsync(engine, TinyModels.Greedy("filters", 20) with
        {
            Sampling = new SamplingOptions { Temperature = 0.7f, TopK = 1, Seed = 9 },
        });
        Assert.Equal(greedy.Text, topOne.Text);

        var combined = await TinyModels.RunAsync(engine, TinyModels.Greedy("filters", 20) with
        {
            Sampling = new SamplingOptions { Temperature = 0.9f, TopK = 20, TopP = 0.9f, MinP = 0.05f, RepetitionPenalty = 1.3f, RepetitionLastN = 32, Seed = 11 },
        });
        Assert.Equal(20, combined.Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task A_repetition_penalty_changes_greedy_output_that_repeats()
    {
        await using var engine = await models.LoadAsync();
        var plain = await TinyModels.RunAsync(engine, TinyModels.Greedy("loop", 120));
        var penalised = await TinyModels.RunAsync(engine, TinyModels.Greedy("loop", 120) with
        {
            Sampling = SamplingOptions.Greedy with { RepetitionPenalty = 5f, RepetitionLastN = 64 },
        });
        Assert.NotEqual(plain.Text, penalised.Text);
    }

    [Fact]
    public async Task Stop_strings_end_the_text_right_before_them_and_never_leak()
    {
        await using var engine = await models.LoadAsync();
        var full = await TinyModels.RunAsync(engine, TinyModels.Greedy("Where do stop strings go?", 48));
        var stop = full.Text.Substring(full.Text.Length / 2, 3);
        var cut = full.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = await TinyModels.RunAsync(engine, TinyModels.Greedy("Where do stop strings go?", 48) with { Stop = ["no such text", stop] });

        Assert.Equal(full.Text[..cut], stopped.Text);
        Assert.Equal(FinishReason.Stop, stopped.Metrics.FinishReason);
        Assert.All(stopped.Chunks, chunk => Assert.DoesNotContain(stop, chunk));
    }

    [Fact]
    public async Task Multi_byte_characters_spread_over_several_tokens_arrive_whole()
    {
        // The chain model walks every token of its vocabulary, including "é", "€" and "😀" spelled
        // as byte tokens, so the engine must join bytes from two, three and four tokens.
        await using var engine = await models.LoadAsync(models.Chain, contextSize: 1024);
        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("Hello", 500));

        Assert.Contains("é", result.Text);
        Assert.Contains("€", result.Text);
        Assert.Contains("😀", result.Text);
        Assert.DoesNotContain('\uFFFD', result.Text);
        Assert.All(result.Chunks, chunk => Assert.False(chunk.Length > 0 && char.IsHighSurrogate(chunk[^1])));
        Assert.True(result.Chunks.Count < result.Metrics.GeneratedTokens, "bytes of one character are emitted as one chunk");
    }

    [Fact]
    public async Task Tokenization_round_trips_any_text_through_byte_fallback()
    {
        await using var engine = await models.LoadAsync();
        const string text = "Héllo wörld, 日本語 😀 mesh!";
        var tokens = engine.Tokenize(text);
        Assert.Equal(" " + text, engine.Detokenize(tokens));
        Assert.True(tokens.Count < System.Text.Encoding.UTF8.GetByteCount(text));
    }

    [Fact]
    public async Task Metrics_describe_the_generation()
    {
        await using var engine = await models.LoadAsync();
        var request = TinyModels.Greedy("How fast is the mesh?", 16);
        var result = await TinyModels.RunAsync(engine, request);
        var metrics = result.Metrics;

        Assert.Equal(engine.Tokenize(engine.FormatPrompt(request)).Count, metrics.PromptTokens);
        Assert.Equal(16, metrics.GeneratedTokens);
        Assert.Equal(FinishReason.MaxTokens, metrics.FinishReason);
        Assert.True(metrics.TimeToFirstTokenMs > 0);
        Assert.True(metrics.TotalMs >= metrics.TimeToFirstTokenMs);
        Assert.True(metrics.PrefillTokensPerSecond > 0);
        Assert.True(metrics.DecodeTokensPerSecond > 0);
        Assert.True(metrics.QueueMs >= 0);
        Assert.Equal(1, metrics.BatchSize);
        Assert.Equal(0, metrics.ReusedPromptTokens);
        Assert.True(result.Chunks[^1].Length == 0 || result.Chunks.Count > 1);
    }

    [Fact]
    public async Task Generation_stops_when_the_context_window_is_full()
    {
        await using var engine = await models.LoadAsync(contextSize: 48);
        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("fill the window", 1000));
        Assert.Equal(FinishReason.ContextFull, result.Metrics.FinishReason);
        Assert.Equal(48, result.Metrics.PromptTokens + result.Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task The_chat_template_comes_from_the_model_with_documented_fallbacks()
    {
        await using var engine = await models.LoadAsync();
        Assert.Equal("the model's tokenizer.chat_template", engine.ChatTemplate);
        var prompt = engine.FormatPrompt(new GenerationRequest { Messages = [ChatTurn.System("Be brief."), ChatTurn.User("hi")] });
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", prompt);
        Assert.Equal("raw text", engine.FormatPrompt(new GenerationRequest { RawPrompt = "raw text" }));

        using var directory = new TemporaryDirectory();
        var withoutTemplate = TinyLlamaSynthesizer.Write(directory.File("plain.gguf"), new TinyLlamaOptions { ChatTemplate = null }).Path;
        await using var fallback = await models.LoadAsync(withoutTemplate);
        Assert.Equal("fallback 'chatml'", fallback.ChatTemplate);

        await using var overridden = await models.LoadAsync(withoutTemplate, engineOptions: new Dictionary<string, string> { ["chat_template"] = "llama3" });
        Assert.StartsWith("manifest chat_template", overridden.ChatTemplate);
        Assert.Contains("<|start_header_id|>user<|end_header_id|>", overridden.FormatPrompt(GenerationRequest.FromPrompt("hi")));

        var plainProvider = new MoeMesh.Inference.Llama.LlamaEngineProvider(new MoeMesh.Inference.Llama.LlamaEngineOptions { Threads = 1, FallbackChatTemplate = "no-such-template" });
        await using var plain = await plainProvider.LoadAsync(TinyModels.Manifest(withoutTemplate));
        Assert.StartsWith("plain", plain.ChatTemplate);
        Assert.Equal("user: hi\nassistant:", plain.FormatPrompt(GenerationRequest.FromPrompt("hi")));
        Assert.Equal(8, (await TinyModels.RunAsync(plain, TinyModels.Greedy("hi", 8))).Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task A_model_with_a_copied_tokenizer_generates()
    {
        using var directory = new TemporaryDirectory();
        var source = TinyLlamaSynthesizer.Write(directory.File("source.gguf"), new TinyLlamaOptions { VocabularySize = 1024, Seed = 3 });
        var path = TinyLlamaSynthesizer.Write(directory.File("copy.gguf"), new TinyLlamaOptions { VocabularyPath = source.Path }).Path;
        await using var engine = await models.LoadAsync(path);
        Assert.NotEqual(new TinyLlamaOptions().VocabularySize, source.VocabularySize);
        Assert.Equal(source.VocabularySize, engine.VocabularySize);
        // As llama.cpp's detokenizer: after a start token the SPM word-boundary space stays.
        Assert.Equal(" Hello world", engine.Detokenize(engine.Tokenize("Hello world")));
        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("Hello", 12));
        Assert.Equal(12, result.Metrics.GeneratedTokens);
    }
}
