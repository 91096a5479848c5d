using MoeMesh.Dashboard.Api;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Dashboard.Tests.Api;

public sealed class ChatCompletionRequestReaderTests
{
    [Fact]
    public void Messages_map_to_chat_turns_with_text_parts_joined_and_developer_as_system()
    {
        var request = Read("""
            {"model": "moemesh", "messages": [
              {"role": "developer", "content": "Be brief."},
              {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
              {"role": "assistant", "content": null},
              {"role": "assistant", "content": "earlier answer"},
              {"role": "user", "content": "last"}]}
            """);

        Assert.Equal(
            [ChatTurn.System("Be brief."), ChatTurn.User("first\nsecond"), ChatTurn.Assistant("earlier answer"), ChatTurn.User("last")],
            request.Query.Messages);
        Assert.Equal("last", request.Query.Question);
    }

    [Fact]
    public void Sampling_limits_and_extras_reach_the_query_options()
    {
        var request = Read("""
            {"model": "moemesh", "messages": [{"role": "user", "content": "hi"}],
             "max_completion_tokens": 33, "max_tokens": 99, "temperature": 0.7, "top_p": 0.9, "top_k": 12, "seed": 4000000000,
             "stop": ["END", "STOP"], "frequency_penalty": 0.5,
             "k": 3, "budget_ms": 1500, "budget_j": 2.5, "strategy": "symbolic", "stream": true}
            """);

        var options = request.Query.Options;
        Assert.Equal(RoutingStrategy.Symbolic, options.Strategy);
        Assert.Equal(3, options.K);
        Assert.Equal(1500, options.LatencyBudgetMs);
        Assert.Equal(2.5, options.EnergyBudgetJoules);
        Assert.Equal(33, options.MaxTokens);
        Assert.Equal(0.7f, options.Sampling.Temperature);
        Assert.Equal(0.9f, options.Sampling.TopP);
        Assert.Equal(12, options.Sampling.TopK);
        Assert.Equal(4_000_000_000u, options.Sampling.Seed);
        Assert.Equal(1.5f, options.Sampling.RepetitionPenalty);
        Assert.Equal(["END", "STOP"], options.Stop);
        Assert.True(request.Stream);
        Assert.Null(request.ExpertId);
    }

    [Theory]
    [InlineData("moemesh", RoutingStrategy.Auto)]
    [InlineData("moemesh-moe2", RoutingStrategy.Moe2)]
    [InlineData("MoeMesh-Fastest", RoutingStrategy.Fastest)]
    public void Strategy_models_select_the_strategy(string model, RoutingStrategy strategy)
    {
        var request = Read($$"""{"model": "{{model}}", "messages": [{"role": "user", "content": "hi"}], "stop": "X"}""");

        Assert.Equal(strategy, request.Query.Options.Strategy);
        Assert.Null(request.ExpertId);
        Assert.Equal(["X"], request.Query.Options.Stop);
    }

    [Fact]
    public void An_expert_model_restricts_the_query_to_that_expert()
    {
        var request = Read("""{"model": "math-small", "messages": [{"role": "user", "content": "hi"}]}""");

        Assert.Equal("math-small", request.ExpertId);
        Assert.Equal(["math-small"], request.Query.Options.Experts);
        Assert.Equal(1, request.Query.Options.K);
    }

    [Fact]
    public void A_missing_model_means_the_default_strategy()
        => Assert.Equal("moemesh", Read("""{"messages": [{"role": "user", "content": "hi"}]}""").Model);

    [Theory]
    [InlineData("""{"model": "math-small", "messages": [{"role": "user", "content": "hi"}], "strategy": "moe2"}""", "strategy")]
    [InlineData("""{"model": "math-small", "messages": [{"role": "user", "content": "hi"}], "k": 3}""", "k")]
    [InlineData("""{"model": 7, "messages": [{"role": "user", "content": "hi"}]}""", "model")]
    [InlineData("""{"model": "", "messages": [{"role": "user", "content": "hi"}]}""", "model")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "tool", "content": "x"}]}""", "messages[0].role")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user"}]}""", "messages[0].content")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": 5}]}""", "messages[0].content")]
    [InlineData("""{"model": "moemesh", "messages": ["hello"]}""", "messages[0]")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "   "}]}""", "messages")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "seed": -1}""", "seed")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "stop": [1]}""", "stop")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "stop": [""]}""", "stop")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "top_p": 0}""", "top_p")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "k": 1.5}""", "k")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}}""", "response_format")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "logprobs": true}""", "logprobs")]
    [InlineData("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 3}""", "frequency_penalty")]
    public void Problems_name_the_field(string json, string param)
    {
        var request = ChatCompletionRequestReader.Read(ChatCompletionsTests.Parse(json), out var problems);

        Assert.Null(request);
        Assert.Contains(problems, p => p.Param == param);
        Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Message)));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        ChatCompletionRequestReader.Read(ChatCompletionsTests.Parse("""{"model": "moemesh", "messages": [{"role": "user", "content": "hi"}], "budget_ms": "x", "budget_j": "y", "n": 2}"""), out var problems);

        Assert.Equal(["budget_j", "budget_ms", "n"], problems.Select(p => p.Param).Order(StringComparer.Ordinal));
    }

    private static ChatCompletionRequest Read(string json)
    {
        var request = ChatCompletionRequestReader.Read(ChatCompletionsTests.Parse(json), out var problems);
        Assert.True(request is not null, string.Join("; ", problems.Select(p => p.Message)));
        return request;
    }
}
