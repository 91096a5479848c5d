using MoeMesh.Errors;
using MoeMesh.Generation;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama;

[Collection(TinyModelsCollection.Name)]
public sealed class LlamaEngineSchedulingTests(TinyModels models)
{
    private static readonly string[] Prompts =
    [
        "What is the capital of the mesh?",
        "Write a function that adds two numbers.",
        "Explain molecular biology in one line.",
        "How much energy does a Jetson draw?",
        "Tell me a story about a router.",
        "Which expert knows law?",
    ];

    [Fact]
    public async Task Batched_decoding_gives_the_same_greedy_text_as_sequential_decoding()
    {
        var sequentialOptions = new Dictionary<string, string> { ["sequences"] = "1" };
        await using var sequential = await models.LoadAsync(engineOptions: sequentialOptions);
        var expected = new List<string>();
        foreach (var prompt in Prompts)
        {
            var alone = await TinyModels.RunAsync(sequential, TinyModels.Greedy(prompt, 160));
            Assert.Equal(1, alone.Metrics.BatchSize);
            expected.Add(alone.Text);
        }

        await using var batched = await models.LoadAsync(engineOptions: new Dictionary<string, string> { ["sequences"] = "8" });
        // Long enough runs that all six overlap even if queueing them is interrupted on a busy machine.
        var together = await Task.WhenAll(Prompts.Select(p => TinyModels.RunAsync(batched, TinyModels.Greedy(p, 160))));

        Assert.Equal(expected, together.Select(r => r.Text));
        Assert.Contains(together, r => r.Metrics.BatchSize >= 4);
    }

    [Fact]
    public async Task More_requests_than_sequences_are_queued_and_all_answered_correctly()
    {
        await using var engine = await models.LoadAsync(engineOptions: new Dictionary<string, string> { ["sequences"] = "3" });
        var expected = new Dictionary<string, string>();
        foreach (var prompt in Prompts)
        {
            expected[prompt] = (await TinyModels.RunAsync(engine, TinyModels.Greedy(prompt, 24))).Text;
        }

        var requests = Enumerable.Range(0, 18).Select(i => Prompts[i % Prompts.Length]).ToList();
        var results = await Task.WhenAll(requests.Select(p => Task.Run(() => TinyModels.RunAsync(engine, TinyModels.Greedy(p, 24)))));

        for (var i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[requests[i]], results[i].Text);
            Assert.InRange(results[i].Metrics.BatchSize, 1, 3);
        }

        Assert.Contains(results, r => r.Metrics.QueueMs > 0);
    }

    [Fact]
    public async Task A_shared_prompt_prefix_is_reused_and_gives_the_same_text_as_no_reuse()
    {
        var system = ChatTurn.System(string.Join(' ', Enumerable.Repeat("You are the expert on small computers that work together.", 4)));
        var first = new GenerationRequest { Messages = [system, ChatTurn.User("First question?")], MaxTokens = 30, Sampling = SamplingOptions.Greedy };
        var second = new GenerationRequest { Messages = [system, ChatTurn.User("A different second question?")], MaxTokens = 30, Sampling = SamplingOptions.Greedy };

        await using var reusing = await models.LoadAsync();
        await TinyModels.RunAsync(reusing, first);
        var reused = await TinyModels.RunAsync(reusing, second);

        await using var fresh = await models.LoadAsync();
        var computed = await TinyModels.RunAsync(fresh, second);

        Assert.Equal(0, computed.Metrics.ReusedPromptTokens);
        Assert.True(reused.Metrics.ReusedPromptTokens > 40, $"reused {reused.Metrics.ReusedPromptTokens} tokens");
        Assert.True(reused.Metrics.ReusedPromptTokens < reused.Metrics.PromptTokens);
        Assert.Equal(computed.Metrics.PromptTokens, reused.Metrics.PromptTokens);
        Assert.Equal(computed.Text, reused.Text);

        // The identical prompt again: everything but the last token comes from the cache.
        var repeated = await TinyModels.RunAsync(reusing, second);
        Assert.Equal(repeated.Metrics.PromptTokens - 1, repeated.Metrics.ReusedPromptTokens);
        Assert.Equal(computed.Text, repeated.Text);
    }

    [Fact]
    public async Task Prefix_reuse_can_be_turned_off()
    {
        await using var engine = await models.LoadAsync(engineOptions: new Dictionary<string, string> { ["prefix_reuse"] = "false" });
        var first = await TinyModels.RunAsync(engine, TinyModels.Greedy("the same prompt twice", 12));
        var second = await TinyModels.RunAsync(engine, TinyModels.Greedy("the same prompt twice", 12));
        Assert.Equal(0, second.Metrics.ReusedPromptTokens);
        Assert.Equal(first.Text, second.Text);
    }

    [Fact]
    public async Task A_follow_up_turn_reuses_the_previous_answer_from_the_cache()
    {
        await using var engine = await models.LoadAsync();
        var question = TinyModels.Greedy("Start a conversation", 20);
        var answer = await TinyModels.RunAsync(engine, question);
        var followUp = new GenerationRequest
        {
            Messages = [ChatTurn.User("Start a conversation"), ChatTurn.Assistant(answer.Text), ChatTurn.User("And then?")],
            MaxTokens = 10,
            Sampling = SamplingOptions.Greedy,
        };

        var result = await TinyModels.RunAsync(engine, followUp);
        Assert.True(result.Metrics.ReusedPromptTokens >= answer.Metrics.PromptTokens, $"reused {result.Metrics.ReusedPromptTokens}");
    }

    [Fact]
    public async Task Cancelling_ends_the_stream_promptly_and_the_engine_keeps_serving()
    {
        await using var engine = await models.LoadAsync(contextSize: 4096);
        using var cancellation = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in engine.GenerateAsync(TinyModels.Greedy("never ending", 4000), cancellation.Token))
            {
                if (++received == 5)
                {
                    cancellation.Cancel();
                }
            }
        });

        Assert.InRange(received, 5, 6);
        var next = await TinyModels.RunAsync(engine, TinyModels.Greedy("still there?", 8));
        Assert.Equal(8, next.Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task A_request_cancelled_before_it_starts_throws_at_once()
    {
        await using var engine = await models.LoadAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TinyModels.RunAsync(engine, TinyModels.Greedy("x"), new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task Cancelling_one_request_does_not_disturb_the_others_in_its_batch()
    {
        await using var engine = await models.LoadAsync();
        var alone = new List<string>();
        foreach (var prompt in Prompts[..3])
        {
            alone.Add((await TinyModels.RunAsync(engine, TinyModels.Greedy(prompt, 60))).Text);
        }

        using var cancellation = new CancellationTokenSource();
        var victim = Task.Run(async () =>
        {
            var chunks = 0;
            await foreach (var chunk in engine.GenerateAsync(TinyModels.Greedy(Prompts[1], 60), cancellation.Token))
            {
                if (++chunks == 1)
                {
                    cancellation.Cancel();
                }
            }
        });
        var first = Task.Run(() => TinyModels.RunAsync(engine, TinyModels.Greedy(Prompts[0], 60)));
        var third = Task.Run(() => TinyModels.RunAsync(engine, TinyModels.Greedy(Prompts[2], 60)));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => victim);
        Assert.Equal(alone[0], (await first).Text);
        Assert.Equal(alone[2], (await third).Text);
    }

    [Fact]
    public async Task A_caller_that_stops_reading_frees_its_sequence()
    {
        await using var engine = await models.LoadAsync(engineOptions: new Dictionary<string, string> { ["sequences"] = "1" });
        await foreach (var chunk in engine.GenerateAsync(TinyModels.Greedy("abandon me", 200)))
        {
            break;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var next = await TinyModels.RunAsync(engine, TinyModels.Greedy("next one", 5), timeout.Token);
        Assert.Equal(5, next.Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task Unloading_ends_running_streams_with_a_clear_error()
    {
        var engine = await models.LoadAsync(contextSize: 4096);
        var running = TinyModels.RunAsync(engine, TinyModels.Greedy("long answer", 4000));
        await engine.DisposeAsync();

        var error = await Assert.ThrowsAsync<ExpertUnavailableException>(() => running);
        Assert.Contains("unloaded", error.Message);
        await Assert.ThrowsAsync<ExpertUnavailableException>(() => TinyModels.RunAsync(engine, TinyModels.Greedy("after")));
    }

    [Fact]
    public async Task Several_contexts_per_expert_serve_requests_side_by_side()
    {
        await using var engine = await models.LoadAsync(engineOptions: new Dictionary<string, string> { ["contexts"] = "2", ["sequences"] = "2" });
        var expected = await TinyModels.RunAsync(engine, TinyModels.Greedy(Prompts[0], 20));
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => TinyModels.RunAsync(engine, TinyModels.Greedy(Prompts[0], 20))));
        Assert.All(results, r => Assert.Equal(expected.Text, r.Text));
    }
}
