using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Grains.Tests.TestDoubles;

/// <summary>What scripted engines saw, shared by every silo of a test cluster.</summary>
public sealed class EngineProbe
{
    public ConcurrentQueue<string> Loaded { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    /// <summary>Runs that reached the engine, with when (a <see cref="Stopwatch"/> timestamp).</summary>
    public ConcurrentQueue<(string Expert, long At)> Started { get; } = new();

    /// <summary>
    /// Runs that ended before their last word, with when the engine let go (a <see cref="Stopwatch"/>
    /// timestamp): its token was cancelled or its reader disposed it, as a real engine's decode loop
    /// notices either at once.
    /// </summary>
    public ConcurrentQueue<(string Expert, long At)> Stopped { get; } = new();

    /// <summary>Models whose load has begun.</summary>
    public ConcurrentQueue<string> LoadsStarted { get; } = new();

    private TaskCompletionSource _loadGate = Open();

    /// <summary>Holds every model load from now until <see cref="ReleaseLoads"/>.</summary>
    public void HoldLoads() => Interlocked.Exchange(ref _loadGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets held model loads finish.</summary>
    public void ReleaseLoads() => Interlocked.Exchange(ref _loadGate, Open()).TrySetResult();

    internal Task LoadGate => Volatile.Read(ref _loadGate).Task;

    private static TaskCompletionSource Open()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    public ConcurrentQueue<(string Expert, GenerationRequest Request)> Requests { get; } = new();

    /// <summary>Delay between words, so tests can cancel mid-stream.</summary>
    public TimeSpan WordDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Stalled runs wait out their stall even when cancelled, as an engine that leaks cancellation would.</summary>
    public bool IgnoreCancellation { get; set; }

    /// <summary>How long loading a model takes.</summary>
    public TimeSpan LoadDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Expert ids whose load fails.</summary>
    public ConcurrentDictionary<string, bool> FailLoad { get; } = new();

    private int _stallingRuns;
    private int _stallAfterWords;
    private TimeSpan _stallFor;

    /// <summary>
    /// The next <paramref name="runs"/> runs stop after <paramref name="afterWords"/> words until they are
    /// cancelled or <paramref name="atMost"/> passes, so a test can act mid-stream however slow the machine.
    /// </summary>
    public void StallNextRuns(int runs, int afterWords, TimeSpan atMost)
    {
        _stallAfterWords = afterWords;
        _stallFor = atMost;
        Volatile.Write(ref _stallingRuns, runs);
    }

    private TaskCompletionSource _stallRelease = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Ends every stall under way now, so a test decides when a leaking run lets go.</summary>
    public void ReleaseStalls() =>
        Interlocked.Exchange(ref _stallRelease, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits out a stall: until <paramref name="atMost"/> passes, the token fires, or the test releases it.</summary>
    internal async Task StallAsync(TimeSpan atMost, CancellationToken cancellationToken)
    {
        var release = Volatile.Read(ref _stallRelease).Task;
        var delay = Task.Delay(atMost, cancellationToken);
        if (await Task.WhenAny(delay, release) == delay)
        {
            await delay;
        }
    }

    /// <summary>Claims a stall for a starting run: how many words it gets first and how long it then waits.</summary>
    internal (int AfterWords, TimeSpan For)? ClaimStall() =>
        Interlocked.Decrement(ref _stallingRuns) >= 0 ? (_stallAfterWords, _stallFor) : null;
}

/// <summary>A test double for the llama.cpp engine: answers "&lt;expert-id&gt; says: …" word by word.</summary>
public sealed class ScriptedEngineProvider(EngineProbe probe) : IExpertEngineProvider
{
    public string Engine => ExpertEngines.LlamaCpp;

    public async Task<IExpertEngine> LoadAsync(ExpertManifest manifest, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (probe.FailLoad.ContainsKey(manifest.Id))
        {
            throw new ExpertUnavailableException($"scripted load failure for {manifest.Id}");
        }

        probe.LoadsStarted.Enqueue(manifest.Id);
        await probe.LoadGate.WaitAsync(cancellationToken);
        await Task.Delay(probe.LoadDelay, cancellationToken);
        probe.Loaded.Enqueue(manifest.Id);
        return new ScriptedEngine(manifest, probe);
    }
}

public sealed class ScriptedEngine(ExpertManifest manifest, EngineProbe probe) : IExpertEngine
{
    public ExpertManifest Manifest => manifest;

    public long ResidentBytes => manifest.WeightBytes;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        probe.Requests.Enqueue((manifest.Id, request));
        var stall = probe.ClaimStall();
        var started = Stopwatch.GetTimestamp();
        var words = $"{manifest.Id} says: the answer is (B) because reasons".Split(' ');
        var emitted = 0;
        var stopped = 0;
        void Stop()
        {
            if (Interlocked.Exchange(ref stopped, 1) == 0)
            {
                probe.Stopped.Enqueue((manifest.Id, Stopwatch.GetTimestamp()));
            }
        }

        probe.Started.Enqueue((manifest.Id, Stopwatch.GetTimestamp()));
        using var onCancel = cancellationToken.Register(Stop);
        var finished = false;
        try
        {
            for (var i = 0; i < words.Length && emitted < request.MaxTokens; i++)
            {
                try
                {
                    await Task.Delay(probe.WordDelay, cancellationToken);
                    if (stall is { } s && emitted == s.AfterWords)
                    {
                        await probe.StallAsync(s.For, probe.IgnoreCancellation ? CancellationToken.None : cancellationToken);
                    }
                }
                catch (OperationCanceledException)
                {
                    probe.Cancelled.Enqueue(manifest.Id);
                    throw;
                }

                emitted++;
                yield return new GenerationChunk { Text = (i == 0 ? "" : " ") + words[i] };
            }

            finished = true;
        }
        finally
        {
            if (!finished)
            {
                Stop();
            }
        }

        var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        yield return new GenerationChunk
        {
            Metrics = new GenerationMetrics
            {
                PromptTokens = 10,
                GeneratedTokens = emitted,
                TimeToFirstTokenMs = total / Math.Max(1, emitted),
                TotalMs = total,
                FinishReason = emitted < words.Length ? FinishReason.MaxTokens : FinishReason.EndOfText,
            },
        };
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
