using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Abstractions.Tests.Queries;

public sealed class QueryValidationTests
{
    [Fact]
    public void A_plain_prompt_is_valid() => Assert.Empty(Query.FromPrompt("hello").Validate());

    [Fact]
    public void Every_bad_option_is_reported()
    {
        var query = Query.FromPrompt("hi", new QueryOptions
        {
            K = 99,
            LatencyBudgetMs = double.NaN,
            EnergyBudgetJoules = 0,
            MaxTokens = 0,
            Stop = [""],
            Sampling = new SamplingOptions { Temperature = -1, TopP = 2, MinP = 1 },
        });

        var problems = query.Validate();

        Assert.Contains(problems, p => p.StartsWith("k must be between 1 and 16", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("latency budget must be a positive", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("energy budget must be a positive", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("max tokens", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("stop strings", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("temperature", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("top-p", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("min-p", StringComparison.Ordinal));
    }

    [Fact]
    public void Oversized_and_empty_prompts_are_rejected()
    {
        Assert.Contains(Query.FromPrompt(new string('x', Query.MaxPromptChars + 1)).Validate(), p => p.Contains("limit is", StringComparison.Ordinal));
        Assert.Contains(new Query { Messages = [] }.Validate(), p => p.Contains("no text", StringComparison.Ordinal));
        Assert.Contains(Query.FromPrompt("   ").Validate(), p => p.Contains("no text", StringComparison.Ordinal));
    }

    [Fact]
    public void Question_is_the_last_user_message()
    {
        var query = new Query { Messages = [ChatTurn.System("be brief"), ChatTurn.User("first"), ChatTurn.Assistant("ok"), ChatTurn.User("second")] };

        Assert.Equal("second", query.Question);
    }

    [Theory]
    [InlineData("moemesh", RoutingStrategy.Auto)]
    [InlineData("moemesh-symbolic", RoutingStrategy.Symbolic)]
    [InlineData("MoeMesh-Moe2", RoutingStrategy.Moe2)]
    [InlineData("moemesh-fastest", RoutingStrategy.Fastest)]
    public void Strategy_model_names_select_the_strategy(string model, RoutingStrategy expected)
    {
        var options = ModelIds.Apply(model, new QueryOptions());

        Assert.Equal(expected, options.Strategy);
        Assert.Empty(options.Experts);
    }

    [Fact]
    public void Other_model_names_are_expert_ids()
    {
        var options = ModelIds.Apply("demo-math", new QueryOptions { K = 3 });

        Assert.Equal(["demo-math"], options.Experts);
        Assert.Equal(RoutingStrategy.Single, options.Strategy);
        Assert.Equal(1, options.K);
        Assert.False(ModelIds.TryParseStrategy("moemesh-warp", out _));
    }

    [Fact]
    public void Strategy_model_names_round_trip()
    {
        foreach (var strategy in Enum.GetValues<RoutingStrategy>())
        {
            Assert.True(ModelIds.TryParseStrategy(ModelIds.ForStrategy(strategy), out var parsed));
            Assert.Equal(strategy, parsed);
        }
    }
}
