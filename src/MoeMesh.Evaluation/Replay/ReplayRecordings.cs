using System.Collections.Concurrent;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// The recordings this process has read, by file: the first expert to need a file reads it (on a
/// pool thread) and every other replay expert shares the same copy. A read that fails is not
/// remembered, so a later load can succeed once the file is fixed. One per service provider (a
/// silo), registered as a singleton by <c>AddReplayEngine</c>.
/// </summary>
public sealed class ReplayRecordings
{
    private readonly ConcurrentDictionary<string, Lazy<Task<ReplayRecording>>> _files = new(StringComparer.Ordinal);

    /// <summary>Files read (or being read) so far.</summary>
    public int Count => _files.Count;

    /// <summary>The recording at <paramref name="file"/> (a full path), read on first use.</summary>
    public async Task<ReplayRecording> GetAsync(string file, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(file);
        var entry = _files.GetOrAdd(file, static f => new Lazy<Task<ReplayRecording>>(() => Task.Run(() => ReplayRecording.Read(f))));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (entry.Value.IsFaulted)
        {
            _files.TryRemove(new KeyValuePair<string, Lazy<Task<ReplayRecording>>>(file, entry));
            throw;
        }
    }
}
