using MoeMesh.Evaluation.Batching;

namespace MoeMesh.Evaluation.Tests.Batching;

public sealed class BatchPlannerTests
{
    [Fact]
    public void Each_model_is_loaded_once_per_window()
    {
        QueuedQuery[] window =
        [
            new("q1", ["math", "general"]),
            new("q2", ["law", "general"]),
            new("q3", ["math", "general", "math"]),
            new("q4", ["general"]),
            new("q5", ["law"]),
        ];
        var schedule = BatchPlanner.Plan(window);

        Assert.Equal(3, schedule.ModelLoads);
        Assert.Equal(["general", "law", "math"], schedule.Batches.Select(b => b.ExpertId).Order());
        Assert.Equal(schedule.Batches.Count, schedule.Batches.Select(b => b.ExpertId).Distinct().Count());
        Assert.True(schedule.NaiveModelLoads > schedule.ModelLoads);

        // Every query is served by each of its experts and completes exactly once.
        foreach (var query in window)
        {
            foreach (var expert in query.Experts.Distinct())
            {
                Assert.Contains(query.QueryId, schedule.Batches.Single(b => b.ExpertId == expert).QueryIds);
            }
        }

        Assert.Equal(window.Select(q => q.QueryId).Order(), schedule.Batches.SelectMany(b => b.CompletedQueryIds).Order());

        // The first batch finishes the most queries: "general" completes q4 alone, "law" completes q5.
        Assert.NotEmpty(schedule.Batches[0].CompletedQueryIds);
    }

    [Fact]
    public void Plans_are_deterministic_and_carry_devices()
    {
        QueuedQuery[] window = [new("a", ["x", "y"]), new("b", ["y", "z"]), new("c", ["z"])];
        string Device(string expert) => expert == "x" ? "orin" : "rtx";
        var first = BatchPlanner.Plan(window, Device);
        var second = BatchPlanner.Plan(window, Device);
        Assert.Equal(first.Batches.Select(b => b.ExpertId), second.Batches.Select(b => b.ExpertId));
        Assert.Equal("orin", first.Batches.Single(b => b.ExpertId == "x").DeviceId);
    }

    [Fact]
    public void Bad_windows_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => BatchPlanner.Plan([new("a", ["x"]), new("a", ["y"])]));
        Assert.Throws<ArgumentException>(() => BatchPlanner.Plan([new("a", [])]));
        Assert.Equal(0, BatchPlanner.Plan([]).ModelLoads);
    }
}
