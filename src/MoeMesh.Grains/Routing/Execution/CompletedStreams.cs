using System.Diagnostics;

namespace MoeMesh.Grains.Routing.Execution;

/// <summary>
/// Whether a grain stream that ran to its end must still be released. Orleans (10.x) removes a
/// stream's enumerator on the grain's side as soon as it sends the end (the same message as the
/// last items, when they are ready together), so releasing it afterwards is a round trip to the
/// expert's silo that changes nothing there: on the caller's side it only ends the tracing
/// activity Orleans opened for the stream. That activity exists only while something listens to
/// Orleans' application activity source, so the release is needed only then.
/// </summary>
internal static class CompletedStreams
{
    // Listeners choose sources by name; this source, of the same name, never starts an activity
    // and only tells whether any listener wants that name's activities.
    private static readonly ActivitySource OrleansApplication = new(Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName);

    /// <summary>True when a finished stream must still be released (something traces Orleans' grain calls).</summary>
    public static bool NeedRelease => OrleansApplication.HasListeners();
}
