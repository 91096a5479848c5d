using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoeMesh.Activations;
using MoeMesh.Errors;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// Runs one MoE layer's routed experts for one step: one frame per shard holding a chosen expert
/// (every token and slot for it), all shards of the layer in parallel, partial sums added in shard
/// order so the result does not depend on which reply came first. A lost shard is retried on its
/// replicas and then re-activated on a surviving silo (exact), or served by a low-precision local
/// copy (budgeted).
/// </summary>
internal sealed partial class MoeLayerDispatcher(
    IGrainFactory grains, MoeShardLayout layout, MoeExecutionOptions options, MoeRunLedger ledger,
    MoeLocalExpertCache? cache, DataPlaneSecurity security, TimeProvider time, ILogger logger, string sequenceId) : IDisposable
{
    private static readonly TimeSpan ExactCallTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);
    private readonly Dictionary<(int Layer, int Shard), int> _preferredReplica = [];
    private readonly Dictionary<ExpertShardKey, string> _lastSilo = [];
    private readonly Dictionary<ExpertShardKey, (ActivationDataPlaneClient Client, string Silo)> _streams = [];

    private bool Budgeted => options.Mode == MoeExecutionMode.Budgeted;

    public async Task<float[]> RunAsync(MoeLayerRouting routing, CancellationToken cancellationToken)
    {
        var (tokens, hiddenSize, k) = (routing.TokenCount, routing.HiddenSize, routing.ExpertsPerToken);
        var ids = Select(routing);
        var calls = new List<(int[] Rows, Task<float[]> Partial)>();
        var sent = new List<(int Index, Sent Hop)>();
        for (var shard = 0; shard < layout.ShardCount; shard++)
        {
            var key = layout.Key(routing.Layer, shard, 0);
            var rows = Enumerable.Range(0, tokens).Where(t => ids.AsSpan(t * k, k).ContainsAnyInRange(key.FirstExpert, key.FirstExpert + key.ExpertCount - 1)).ToArray();
            if (rows.Length > 0)
            {
                var frame = MoeFrames.Input(sequenceId, routing, key, rows, ids, options.FrameDType);
                if (TrySend(routing.Layer, shard, frame) is { } hop)
                {
                    sent.Add((calls.Count, hop));
                    calls.Add((rows, Task.FromResult<float[]>([])));
                }
                else
                {
                    calls.Add((rows, CallAsync(routing.Layer, shard, frame, null, cancellationToken)));
                }
            }
        }

        // Every frame of the layer is out before the first reply is awaited, so the silos work in parallel.
        foreach (var (index, hop) in sent)
        {
            calls[index] = (calls[index].Rows, Receive(hop, cancellationToken));
        }

        await Task.WhenAll(calls.Select(c => c.Partial));
        var output = new float[tokens * hiddenSize];
        foreach (var (rows, partial) in calls)
        {
            var values = partial.Result;
            for (var r = 0; r < rows.Length; r++)
            {
                var target = output.AsSpan(rows[r] * hiddenSize, hiddenSize);
                var source = values.AsSpan(r * hiddenSize, hiddenSize);
                for (var i = 0; i < hiddenSize; i++)
                {
                    target[i] += source[i];
                }
            }
        }

        return output;
    }

    /// <summary>The slots to run: all of them (exact), or those at or above the gate threshold (budgeted).</summary>
    private int[] Select(MoeLayerRouting routing)
    {
        var ids = (int[])routing.ExpertIds.Clone();
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0)
            {
                continue;
            }

            if (Budgeted && routing.Weights[i] < options.GateThreshold)
            {
                ids[i] = -1;
                ledger.Skipped++;
                continue;
            }

            ledger.CountRouting(routing.Layer, ids[i]);
        }

        return ids;
    }

    /// <summary>
    /// The hop path: when the shard's preferred replica has an open stream, its frame is encoded into the
    /// stream's buffer and sent at once on this thread; null when the shard needs the full call.
    /// </summary>
    private Sent? TrySend(int layer, int shard, MoeFrames.Outgoing frame)
    {
        if (options.Transport != MoeFrameTransport.TcpStream)
        {
            return null;
        }

        var replicas = layout.ReplicasOf(layer, shard);
        var preferred = _preferredReplica.TryGetValue((layer, shard), out var chosen) ? chosen : FirstReplica(layer, shard, replicas);
        var key = layout.Key(layer, shard, preferred);
        if (!_streams.TryGetValue(key, out var stream))
        {
            return null;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            frame.Encode(stream.Client.BeginFrame());
            return new Sent(layer, shard, key, frame, stream.Client.Send(), started, null);
        }
#pragma warning disable CA1031 // Handed to Receive, which fails the shard's task with it: the layer's other frames are sent and their replies must still be read.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DropStream(key);
            return new Sent(layer, shard, key, frame, 0, started, ex);
        }
    }

    /// <summary>
    /// Waits on this thread for a reply <see cref="TrySend"/> sent: the kernel wakes the thread when it
    /// arrives, with no hand-off through the thread pool and the grain's scheduler. Replies come within a
    /// hop's time as a rule; a lost or slow silo ends the wait at the call's timeout, and the shard then
    /// goes the full call's way (replicas, re-activation, local fallback).
    /// </summary>
    private Task<float[]> Receive(Sent hop, CancellationToken cancellationToken)
    {
        var error = hop.Error;
        if (error is null)
        {
            try
            {
                var reply = _streams[hop.Key].Client.Receive(Budgeted ? options.SlowShardTimeout : ExactCallTimeout);
                ledger.RecordHop(Stopwatch.GetElapsedTime(hop.Started).TotalMicroseconds, hop.Bytes + reply.Length);
                return Task.FromResult(MoeFrames.Output(reply, hop.Frame));
            }
#pragma warning disable CA1031 // Failed into the shard's task: the layer's other replies must still be read.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // Its reply may still be on the way: the stream cannot carry another exchange.
                DropStream(hop.Key);
                error = ex;
            }
        }

        if (!IsTransient(error, cancellationToken))
        {
            return Task.FromException<float[]>(error);
        }

        LogShardFailed(logger, hop.Key.ToString(), error.GetBaseException().Message);
        return Budgeted && cache is not null
            ? Task.FromResult(RunLocally(hop.Key, hop.Frame))
            : CallAsync(hop.Layer, hop.Shard, hop.Frame, (hop.Key, error.GetBaseException().Message, time.GetTimestamp()), cancellationToken);
    }

    private void DropStream(ExpertShardKey key)
    {
        if (_streams.Remove(key, out var stream))
        {
            stream.Client.Dispose();
        }
    }

    private async Task<float[]> CallAsync(int layer, int shard, MoeFrames.Outgoing frame, (ExpertShardKey Key, string Error, long At)? failed, CancellationToken cancellationToken)
    {
        ExpertShardKey? lost = failed?.Key;
        var error = failed?.Error;
        var failedAt = failed?.At ?? 0L;
        var replicas = layout.ReplicasOf(layer, shard);
        var preferred = _preferredReplica.TryGetValue((layer, shard), out var chosen) ? chosen : FirstReplica(layer, shard, replicas);
        while (true)
        {
            for (var i = 0; i < replicas; i++)
            {
                var key = layout.Key(layer, shard, (preferred + i) % replicas);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var reply = await SendAsync(key, frame, Budgeted ? options.SlowShardTimeout : ExactCallTimeout, cancellationToken);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    ledger.RecordHop(elapsed.TotalMicroseconds, reply.SentBytes + reply.Frame.Length);
                    if (lost is { } was)
                    {
                        ledger.RecordRecovery(new ShardRecovery(was, key, error ?? "", time.GetElapsedTime(failedAt)));
                        _preferredReplica[(layer, shard)] = key.Replica;
                    }
                    else if (LastSilo(key) is { } before && before != reply.Silo)
                    {
                        // Orleans re-activated the shard on a survivor without a failed call: the hop paid the reload.
                        ledger.RecordRecovery(new ShardRecovery(key, key, $"silo {before} left; re-activated on {reply.Silo}", elapsed));
                    }

                    lock (_lastSilo)
                    {
                        _lastSilo[key] = reply.Silo;
                    }

                    return MoeFrames.Output(reply.Frame, frame);
                }
                catch (Exception ex) when (IsTransient(ex, cancellationToken))
                {
                    lost ??= key;
                    error ??= ex.GetBaseException().Message;
                    failedAt = failedAt == 0 ? time.GetTimestamp() : failedAt;
                    LogShardFailed(logger, key.ToString(), ex.GetBaseException().Message);
                    if (Budgeted && cache is not null)
                    {
                        return RunLocally(key, frame);
                    }
                }
            }

            if (time.GetElapsedTime(failedAt) > options.RecoveryTimeout)
            {
                throw new ExpertUnavailableException($"Expert shard {layout.Key(layer, shard, 0)} was not served again within {options.RecoveryTimeout.TotalSeconds:0} s: {error}");
            }

            await Task.Delay(RetryDelay, time, cancellationToken);
        }
    }

    /// <summary>One round trip to a shard over the request's transport; a failed stream is dropped and reopened next time.</summary>
    /// <remarks>A reply over the stream lives in the connection's buffer until its next exchange: the caller decodes it first.</remarks>
    private async Task<(ReadOnlyMemory<byte> Frame, string Silo, int SentBytes)> SendAsync(ExpertShardKey key, MoeFrames.Outgoing frame, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IExpertShardGrain>(key.GrainKey);
        if (options.Transport == MoeFrameTransport.GrainCall)
        {
            var bytes = frame.ToArray();
            var reply = await grain.RunAsync(bytes).WaitAsync(timeout, time, cancellationToken);
            return (reply.Frame, reply.Silo, bytes.Length);
        }

        if (!_streams.TryGetValue(key, out var stream))
        {
            var endpoint = await grain.OpenDataPlaneAsync().WaitAsync(timeout, time, cancellationToken);
            stream = (await ActivationDataPlaneClient.ConnectAsync(endpoint.Endpoint, security, cancellationToken).WaitAsync(timeout, time, cancellationToken), endpoint.Silo);
            _streams[key] = stream;
        }

        try
        {
            frame.Encode(stream.Client.BeginFrame());
            var sent = stream.Client.Send();
            return (stream.Client.Receive(timeout), stream.Silo, sent);
        }
        catch
        {
            DropStream(key);
            throw;
        }
    }

    /// <summary>A frame the hop path sent (or failed to send: <see cref="Error"/>), awaiting its reply.</summary>
    private sealed record Sent(int Layer, int Shard, ExpertShardKey Key, MoeFrames.Outgoing Frame, int Bytes, long Started, Exception? Error);

    public void Dispose()
    {
        foreach (var (client, _) in _streams.Values)
        {
            client.Dispose();
        }

        _streams.Clear();
    }

    /// <summary>
    /// Replica 0 as a rule; a hot shard's replicas are shared out by sequence (a stable hash of its id),
    /// so concurrent sequences spread over them.
    /// </summary>
    private int FirstReplica(int layer, int shard, int replicas)
    {
        if (!layout.HotShards.Contains((layer, shard)))
        {
            return 0;
        }

        var hash = 2166136261u;
        foreach (var c in sequenceId)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)replicas);
    }

    private string? LastSilo(ExpertShardKey key)
    {
        lock (_lastSilo)
        {
            return _lastSilo.GetValueOrDefault(key);
        }
    }

    private float[] RunLocally(ExpertShardKey key, MoeFrames.Outgoing frame)
    {
        var output = new float[frame.Hidden.Length];
        var experts = frame.ExpertIds.Where(key.Holds).Distinct().Order().ToArray();
        var (hits, misses) = cache!.Run(key.Layer, experts, frame.Hidden, frame.Rows.Length, frame.ExpertIds, frame.Weights, frame.K, output);
        ledger.RecordDeviation(frame.ExpertIds.Count(key.Holds), hits, misses);
        return output;
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken)
        => ex is not (ActivationFrameFormatException or InvalidRequestException or ExpertUnavailableException)
           && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expert shard {Shard} did not answer: {Error}")]
    private static partial void LogShardFailed(ILogger logger, string shard, string error);
}
