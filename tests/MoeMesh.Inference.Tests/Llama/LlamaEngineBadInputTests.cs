using MoeMesh.Errors;
using MoeMesh.Generation;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama;

[Collection(TinyModelsCollection.Name)]
public sealed class LlamaEngineBadInputTests(TinyModels models)
{
    private static readonly string LongText = string.Join(' ', Enumerable.Range(0, 200).Select(i => $"word{i}"));

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_refused_naming_both_sizes()
    {
        await using var engine = await models.LoadAsync(contextSize: 64);
        var chunks = 0;
        var error = await Assert.ThrowsAsync<InvalidRequestException>(async () =>
        {
            await foreach (var chunk in engine.GenerateAsync(TinyModels.Greedy(LongText)))
            {
                chunks++;
            }
        });

        Assert.Equal(0, chunks);
        Assert.Contains("context window is 64 tokens", error.Message);
        Assert.Matches("The prompt is [0-9]+ tokens", error.Message);
        Assert.Contains("TruncateStart", error.Message);
    }

    [Fact]
    public async Task Truncating_the_start_keeps_the_first_turn_and_the_end()
    {
        await using var engine = await models.LoadAsync(contextSize: 128);
        var conversation = new GenerationRequest
        {
            Messages = [ChatTurn.System("Be brief."), ChatTurn.User(LongText), ChatTurn.Assistant(LongText), ChatTurn.User("last question")],
            MaxTokens = 16,
            Sampling = SamplingOptions.Greedy,
            Overflow = PromptOverflowPolicy.TruncateStart,
        };

        var result = await TinyModels.RunAsync(engine, conversation);
        Assert.True(result.Metrics.PromptTokens <= 128 - 16, $"{result.Metrics.PromptTokens} prompt tokens");
        Assert.Equal(16, result.Metrics.GeneratedTokens);

        var raw = await TinyModels.RunAsync(engine, new GenerationRequest { RawPrompt = LongText, MaxTokens = 200, Overflow = PromptOverflowPolicy.TruncateStart, Sampling = SamplingOptions.Greedy });
        Assert.Equal(64, raw.Metrics.PromptTokens);
        Assert.Equal(128, raw.Metrics.PromptTokens + raw.Metrics.GeneratedTokens);
        Assert.Equal(FinishReason.ContextFull, raw.Metrics.FinishReason);
    }

    [Theory]
    [InlineData(-1f, 40, 0.95f, 0.05f, 1f, "temperature")]
    [InlineData(float.NaN, 40, 0.95f, 0.05f, 1f, "temperature")]
    [InlineData(0.8f, -1, 0.95f, 0.05f, 1f, "top-k")]
    [InlineData(0.8f, 40, 0f, 0.05f, 1f, "top-p")]
    [InlineData(0.8f, 40, 0.95f, 1f, 1f, "min-p")]
    [InlineData(0.8f, 40, 0.95f, 0.05f, 0f, "repetition penalty")]
    public async Task Invalid_sampling_is_refused_before_any_work(float temperature, int topK, float topP, float minP, float penalty, string field)
    {
        await using var engine = await models.LoadAsync();
        var request = GenerationRequest.FromPrompt("hi") with
        {
            Sampling = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MinP = minP, RepetitionPenalty = penalty },
        };
        var error = await Assert.ThrowsAsync<InvalidRequestException>(() => TinyModels.RunAsync(engine, request));
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public async Task Invalid_limits_and_stop_strings_are_refused()
    {
        await using var engine = await models.LoadAsync();
        await Assert.ThrowsAsync<InvalidRequestException>(() => TinyModels.RunAsync(engine, TinyModels.Greedy("hi", 0)));
        await Assert.ThrowsAsync<InvalidRequestException>(() => TinyModels.RunAsync(engine, TinyModels.Greedy("hi") with { Stop = [""] }));
        await Assert.ThrowsAsync<InvalidRequestException>(() => TinyModels.RunAsync(engine, new GenerationRequest()));
    }

    [Fact]
    public async Task Many_concurrent_callers_on_one_engine_all_get_correct_answers()
    {
        await using var engine = await models.LoadAsync();
        var prompts = Enumerable.Range(0, 8).Select(i => $"concurrent caller {i}").ToList();
        var expected = new List<string>();
        foreach (var prompt in prompts)
        {
            expected.Add((await TinyModels.RunAsync(engine, TinyModels.Greedy(prompt, 20))).Text);
        }

        var callers = Enumerable.Range(0, 32).Select(i => Task.Run(() => TinyModels.RunAsync(engine, TinyModels.Greedy(prompts[i % 8], 20)))).ToList();
        var results = await Task.WhenAll(callers);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % 8], results[i].Text);
        }
    }
}
