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
            // A run cancelled while it waits leaves the group and never reaches the expert; a group
            // left empty closes, so the next run does not wait out a window opened for nothing.
            lock (_gate)
            {
                if (!group.Released.Task.IsCompleted && --group.Count == 0)
                {
                    Close(expertId, group);
                }
            }

            throw;
        }
    }

    /// <summary>Runs for <paramref name="expertId"/> waiting in its open window now.</summary>
    internal int Waiting(string expertId)
    {
        lock (_gate)
        {
            return _open.TryGetValue(expertId, out var group) ? group.Count : 0;
        }
    }

    private async Task CloseAfterAsync(string expertId, Group group)
    {
        await Task.Delay(Width, time);
        lock (_gate)
        {
            Close(expertId, group);
        }
    }

    private void Close(string expertId, Group group)
    {
        if (_open.TryGetValue(expertId, out var open) && ReferenceEquals(open, group))
        {
            _open.Remove(expertId);
        }

        group.Released.TrySetResult(group.Count);
    }

    private sealed class Group
    {
        public int Count { get; set; }

        public TaskCompletionSource<int> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
