using LLama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// The sequences of one llama.cpp context and the tokens each holds in the KV cache. A request is
/// seated in the free sequence whose cached tokens share the longest prefix with its prompt, so
/// only the tokens after that prefix are computed.
/// </summary>
internal sealed class LlamaSequenceSlots(SafeLLamaContextHandle context, int count, bool reusePrefix, bool recurrent)
{
    private readonly LlamaSequenceSlot[] _slots = [.. Enumerable.Range(0, count).Select(i => new LlamaSequenceSlot(i))];

    // Release order, not time: only "least recently used" is ever asked.
    private long _releases;

    public bool AnyFree => _slots.Any(s => s.Job is null);

    /// <summary>Longest prefix of <paramref name="prompt"/> cached in any sequence, as of the last releases.</summary>
    public int CachedPrefixLength(int[] prompt) => _slots.Max(s => CommonPrefix(s.PublishedHistory, prompt));

    /// <summary>Seats <paramref name="job"/> in a free sequence (the caller checked <see cref="AnyFree"/>) and drops the cached tokens it cannot reuse.</summary>
    public void Seat(LlamaGenerationJob job)
    {
        // Best reuse first; among equals the least recently used sequence, to keep hot prefixes.
        var slot = _slots.Where(s => s.Job is null)
            .OrderByDescending(s => CommonPrefix(s.History, job.PromptTokens))
            .ThenBy(s => s.LastUsed)
            .First();
        var reuse = reusePrefix ? Math.Min(CommonPrefix(slot.History, job.PromptTokens), job.PromptTokens.Length - 1) : 0;
        if (reuse < slot.History.Count)
        {
            if (recurrent)
            {
                // A recurrent memory cannot drop a suffix; start that sequence over.
                reuse = 0;
            }

            context.MemorySequenceRemove((LLamaSeqId)slot.SequenceId, reuse, -1);
        }

        slot.History.RemoveRange(reuse, slot.History.Count - reuse);
        slot.Job = job;
        job.Slot = slot;
        job.ReusedTokens = reuse;
        job.NextPromptIndex = reuse;
    }

    /// <summary>Frees <paramref name="job"/>'s sequence, keeping its cached tokens for the next prompt unless <paramref name="clearCache"/>.</summary>
    public void Vacate(LlamaGenerationJob job, bool clearCache)
    {
        if (job.Slot is not { } slot)
        {
            return;
        }

        if (clearCache)
        {
            context.MemorySequenceRemove((LLamaSeqId)slot.SequenceId, -1, -1);
            slot.History.Clear();
        }

        slot.Job = null;
        slot.LastUsed = ++_releases;
        slot.PublishHistory();
        job.Slot = null;
    }

    private static int CommonPrefix(IReadOnlyList<int> cached, int[] prompt)
    {
        var length = Math.Min(cached.Count, prompt.Length);
        var i = 0;
        while (i < length && cached[i] == prompt[i])
        {
            i++;
        }

        return i;
    }
}
