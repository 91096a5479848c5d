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

    public byte[] Handle(byte[] bytes)
    {
        var input = ActivationFrameCodec.Decode(bytes);
        if (input.ModelId == HopEcho.ModelId)
        {
            return HopEcho.Reply(bytes);
        }

        List<(ExpertShardKey Key, IMoeExpertRunner Runner)> chosen;
        lock (_gate)
        {
            chosen = [.. _runners
                .Where(r => r.Key.ModelId == input.ModelId && r.Key.Layer == input.Layer && input.ExpertIds.Any(r.Key.Holds))
                .GroupBy(r => (r.Key.FirstExpert, r.Key.ExpertCount)).Select(g => (g.First().Key, g.First().Value))
                .OrderBy(r => r.Key.FirstExpert)];
        }

        if (input.Kind != ActivationFrameKind.ExpertInput || chosen.Count == 0)
        {
            throw new ActivationFrameFormatException($"This silo holds no shard of model '{input.ModelId}' layer {input.Layer} for the frame's experts.");
        }

        var hidden = input.ToFloats();
        var output = new float[hidden.Length];
        var partial = chosen.Count > 1 ? new float[hidden.Length] : output;
        foreach (var (_, runner) in chosen)
        {
            // A runner serves one call at a time; grain calls and stream exchanges may meet here.
            lock (runner)
            {
                runner.Run(hidden, input.TokenCount, input.ExpertIds, input.GateWeights, input.ExpertsPerToken, partial);
            }

            if (!ReferenceEquals(partial, output))
            {
                for (var i = 0; i < output.Length; i++)
                {
                    output[i] += partial[i];
                }
            }
        }

        return ActivationFrameCodec.Encode(ActivationFrame.Create(
            ActivationFrameKind.ExpertOutput, input.ModelId, input.Layer, input.SequenceId, input.Positions, output, input.HiddenSize, input.DType));
    }
}
