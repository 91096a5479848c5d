using MoeMesh.Generation;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama;

[Collection(TinyModelsCollection.Name)]
public sealed class LlamaEngineDeadlineTests(TinyModels models)
{
    [Fact]
    public async Task A_spent_time_budget_ends_the_generation_with_a_budget_finish_and_keeps_the_text()
    {
        await using var engine = await models.LoadAsync();

        // A hundredth of a millisecond is gone before the first token is sampled, however fast the machine.
        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("How fast is the mesh?", 200) with { TimeBudgetMs = 0.01 });

        Assert.Equal(FinishReason.Budget, result.Metrics.FinishReason);
        Assert.Equal(1, result.Metrics.GeneratedTokens);
    }

    [Fact]
    public async Task A_generous_budget_changes_nothing()
    {
        await using var engine = await models.LoadAsync();

        var result = await TinyModels.RunAsync(engine, TinyModels.Greedy("How fast is the mesh?", 16) with { TimeBudgetMs = 600_000 });

        Assert.Equal(FinishReason.MaxTokens, result.Metrics.FinishReason);
        Assert.Equal(16, result.Metrics.GeneratedTokens);
    }

    [Fact]
    public void A_budget_that_is_not_a_positive_time_is_refused()
    {
        var problems = new GenerationRequest { RawPrompt = "x", TimeBudgetMs = -5 }.Validate();

        Assert.Contains(problems, p => p.Contains("time budget", StringComparison.Ordinal));
        Assert.NotEmpty(new GenerationRequest { RawPrompt = "x", TimeBudgetMs = double.NaN }.Validate());
    }
}
