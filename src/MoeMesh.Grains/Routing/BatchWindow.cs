using Microsoft.Extensions.Options;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// Holds runs bound for the same expert for a short window so they reach it together and the
/// engine decodes them as one multi-sequence batch. The first run for an expert opens its window;
/// every run arriving before it closes is released with it. A zero window releases at once.
/// </summary>
public sealed class BatchWindow(IOptions<RouterOptions> options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Group> _open = new(StringComparer.Ordinal);

    public TimeSpan Width => options.Value.BatchWindow;

    /// <summary>Waits until the window for <paramref name="expertId"/> closes; returns how many runs it released together.</summary>
    public async ValueTask<int> JoinAsync(string expertId, CancellationToken cancellationToken)
    {
        if (Width <= TimeSpan.Zero)
        {
            return 1;
        }

        Group group;
        lock (_gate)
        {
            if (!_open.TryGetValue(expertId, out group!))
            {
                group = new Group();
                _open[expertId] = group;
                _ = CloseAfterAsync(expertId, group);
            }

            group.Count++;
        }

        try
        {
            return await group.Released.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // A run cancelled while it waits leaves the group: it never reaches the expert.
            lock (_gate)
            {
                if (!group.Released.Task.IsCompleted)
                {
                    group.Count--;
                }
            }

            throw;
        }
    }

    private async Task CloseAfterAsync(string expertId, Group group)
    {
        await Task.Delay(Width, time);
        int count;
        lock (_gate)
        {
            _open.Remove(expertId);
            count = group.Count;
        }

        group.Released.TrySetResult(count);
    }

    private sealed class Group
    {
        public int Count { get; set; }

        public TaskCompletionSource<int> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
