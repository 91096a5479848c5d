using MoeMesh.Routing.CostModel;

namespace MoeMesh.Routing.Tests.CostModel;

public sealed class PromptTokenEstimateTests
{
    [Fact]
    public void An_empty_question_costs_the_template_tokens()
        => Assert.Equal(PromptTokenEstimate.DefaultTemplateTokens, PromptTokenEstimate.Of(0));

    [Fact]
    public void Characters_round_up_to_whole_tokens()
    {
        Assert.Equal(1 + 32, PromptTokenEstimate.Of(1));
        Assert.Equal(1 + 32, PromptTokenEstimate.Of(4));
        Assert.Equal(2 + 32, PromptTokenEstimate.Of(5));
        Assert.Equal(4 + 10, PromptTokenEstimate.Of(10, charsPerToken: 2.5, templateTokens: 10));
    }

    [Fact]
    public void Impossible_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptTokenEstimate.Of(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptTokenEstimate.Of(10, charsPerToken: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PromptTokenEstimate.Of(10, templateTokens: -3));
    }
}
