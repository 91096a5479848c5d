using System.Buffers;
using MoeMesh.Activations;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>
/// The expert shards loaded on this silo, for frames arriving on the TCP frame stream: a frame runs
/// through every local shard of its model and layer that holds one of its experts, so one exchange
/// serves all of a layer's experts on this silo. Hop-benchmark frames are answered as by <see cref="HopEcho"/>.
/// </summary>
internal sealed class LocalShardRunners
{
    private readonly Dictionary<ExpertShardKey, IMoeExpertRunner> _runners = [];
    private readonly object _gate = new();

    public void Register(ExpertShardKey key, IMoeExpertRunner runner)
    {
        lock (_gate)
        {
            _runners[key] = runner;
        }
    }

    public void Unregister(ExpertShardKey key)
    {
        lock (_gate)
        {
            _runners.Remove(key);
        }
    }

    /// <summary>The shards loaded on this silo, with their resident bytes.</summary>
    public IReadOnlyList<(ExpertShardKey Key, long ResidentBytes)> Loaded()
    {
        lock (_gate)
        {
            return [.. _runners.Select(r => (r.Key, r.Value.ResidentBytes)).OrderBy(r => r.Key.ModelId, StringComparer.Ordinal).ThenBy(r => r.Key.Layer).ThenBy(r => r.Key.FirstExpert)];
        }
    }

    /// <summary>Answers one input frame with its output frame (a grain call's form).</summary>
    public byte[] Handle(byte[] bytes)
    {
        var reply = new ArrayBufferWriter<byte>(bytes.Length + 64);
        Handle(bytes, reply);
        return reply.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Answers one input frame into <paramref name="reply"/>; the tensor, the output and a shard's
    /// partial sum live in pooled buffers, so the stream's exchanges allocate nothing the size of a frame.
    /// </summary>
    public void Handle(ReadOnlyMemory<byte> bytes, IBufferWriter<byte> reply)
    {
        var input = ActivationFrameCodec.Decode(bytes);
        if (input.ModelId == HopEcho.ModelId)
        {
            HopEcho.Reply(input, reply);
            return;
        }

        var chosen = Choose(input);
        if (input.Kind != ActivationFrameKind.ExpertInput || chosen.Count == 0)
        {
            throw new ActivationFrameFormatException($"This silo holds no shard of model '{input.ModelId}' layer {input.Layer} for the frame's experts.");
        }

        var count = input.TokenCount * input.HiddenSize;
        var pool = ArrayPool<float>.Shared;
        var (hiddenArray, outputArray) = (pool.Rent(count), pool.Rent(count));
        var partialArray = chosen.Count > 1 ? pool.Rent(count) : null;
        try
        {
            var hidden = hiddenArray.AsSpan(0, count);
            var output = outputArray.AsSpan(0, count);
            var partial = partialArray is null ? output : partialArray.AsSpan(0, count);
            input.DecodeTensor(hidden);
            output.Clear();
            foreach (var runner in chosen)
            {
                // A runner serves one call at a time; grain calls and stream exchanges may meet here.
                lock (runner)
                {
                    runner.Run(hidden, input.TokenCount, input.ExpertIds, input.GateWeights, input.ExpertsPerToken, partial);
                }

                if (partialArray is not null)
                {
                    for (var i = 0; i < count; i++)
                    {
                        output[i] += partial[i];
                    }
                }
            }

            ActivationFrameCodec.Encode(
                reply, ActivationFrameKind.ExpertOutput, input.ModelId, input.Layer, input.SequenceId, input.Positions, output, input.HiddenSize, input.DType);
        }
        finally
        {
            pool.Return(hiddenArray);
            pool.Return(outputArray);
            if (partialArray is not null)
            {
                pool.Return(partialArray);
            }
        }
    }

    /// <summary>One runner per distinct shard range of the frame's model and layer holding one of its experts, in expert order.</summary>
    private List<IMoeExpertRunner> Choose(ActivationFrame input)
    {
        lock (_gate)
        {
            return [.. _runners
                .Where(r => r.Key.ModelId == input.ModelId && r.Key.Layer == input.Layer && input.ExpertIds.Any(r.Key.Holds))
                .GroupBy(r => (r.Key.FirstExpert, r.Key.ExpertCount)).Select(g => g.First())
                .OrderBy(r => r.Key.FirstExpert).Select(r => r.Value)];
        }
    }
}
