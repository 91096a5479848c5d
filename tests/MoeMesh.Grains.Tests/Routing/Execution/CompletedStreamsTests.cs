using System.Diagnostics;
using MoeMesh.Grains.Routing.Execution;

namespace MoeMesh.Grains.Tests.Routing.Execution;

public sealed class CompletedStreamsTests
{
    [Fact]
    public void A_finished_stream_is_released_while_something_traces_Orleans_grain_calls()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);

        Assert.True(CompletedStreams.NeedRelease);
    }

    [Fact]
    public void A_listener_to_other_sources_does_not_make_finished_streams_need_a_release()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MoeMesh.Tests.Unrelated",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);

        // Other tests in this process may trace Orleans meanwhile; only this listener must not count.
        using var unrelated = new ActivitySource("MoeMesh.Tests.Unrelated");
        Assert.True(unrelated.HasListeners());
        Assert.Equal(AnyOrleansListener(), CompletedStreams.NeedRelease);
    }

    private static bool AnyOrleansListener()
    {
        using var probe = new ActivitySource(Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName);
        return probe.HasListeners();
    }
}
