using MoeMesh.Experts;
using MoeMesh.Generation;

namespace MoeMesh.Grains.Experts;

/// <summary>
/// Cancels an expert run with an explicit call to the expert as well as through the streaming
/// call's token, so the cancellation arrives even when it overtakes the run's first message or the
/// expert has produced nothing the caller could stop reading.
/// </summary>
internal static class ExpertRunCancellation
{
    /// <summary>A fresh run id on <paramref name="request"/>.</summary>
    public static GenerationRequest WithNewRunId(this GenerationRequest request)
        => request with { RunId = Guid.NewGuid().ToString("N") };

    /// <summary>
    /// Calls <see cref="IExpertGrain.CancelAsync"/> for the run when <paramref name="cancellationToken"/>
    /// is cancelled; dispose the registration once the run has ended.
    /// </summary>
    public static CancellationTokenRegistration CancelOnExpertWhenCancelled(this IExpertGrain expert, GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RunId is not { } runId)
        {
            throw new ArgumentException("The request has no run id.", nameof(request));
        }

        return cancellationToken.Register(static state =>
        {
            var (grain, id) = ((IExpertGrain, string))state!;
            grain.CancelAsync(id).Ignore();
        }, (expert, runId));
    }
}
