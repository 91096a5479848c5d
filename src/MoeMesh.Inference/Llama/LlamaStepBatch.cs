using LLama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// Builds the batch of one decode step: the next token of every generating sequence first (so
/// decoding never waits behind a long prompt), then chunks of the prompts still being read, up to
/// the context's batch capacity.
/// </summary>
internal sealed class LlamaStepBatch(int capacity)
{
    // LLamaSharp pins every token slot a batch has ever held on each decode, so single-token steps
    // keep a batch of their own that never grows to prompt size.
    private readonly LLamaBatch _decodeBatch = new();
    private readonly LLamaBatch _prefillBatch = new();
    private int _count;

    /// <summary>The batch filled by the last <see cref="Build"/>.</summary>
    public LLamaBatch Batch { get; private set; } = new();

    /// <summary>The requests with tokens in the batch.</summary>
    public List<LlamaGenerationJob> Jobs { get; } = [];

    /// <summary>Whether the batch reads prompt tokens (more tokens than requests).</summary>
    public bool HasPrefill => _count > Jobs.Count;

    public void Build(List<LlamaGenerationJob> active)
    {
        _count = 0;
        Jobs.Clear();
        var decoding = active.Count(j => j.PendingToken is not null);
        Batch = decoding < capacity && active.Any(j => j.IsPrefilling) ? _prefillBatch : _decodeBatch;
        Batch.Clear();

        foreach (var job in active)
        {
            job.OutputIndex = -1;
            job.TokensInBatch = 0;
            if (job.PendingToken is { } token && _count < capacity)
            {
                job.OutputIndex = _count;
                Add(job, token, output: true);
                Jobs.Add(job);
            }
        }

        foreach (var job in active)
        {
            if (job.IsPrefilling && _count < capacity)
            {
                AddPromptChunk(job);
                Jobs.Add(job);
            }
        }

        foreach (var job in Jobs)
        {
            job.MaxBatchSequences = Math.Max(job.MaxBatchSequences, Jobs.Count);
        }
    }

    private void AddPromptChunk(LlamaGenerationJob job)
    {
        var take = Math.Min(job.PromptTokens.Length - job.NextPromptIndex, capacity - _count);
        for (var i = 0; i < take; i++)
        {
            var last = job.NextPromptIndex + i == job.PromptTokens.Length - 1;
            if (last)
            {
                job.OutputIndex = _count;
            }

            Add(job, job.PromptTokens[job.NextPromptIndex + i], output: last);
        }
    }

    private void Add(LlamaGenerationJob job, int token, bool output)
    {
        Batch.Add(token, job.Slot!.History.Count + job.TokensInBatch, (LLamaSeqId)job.Slot.SequenceId, output);
        job.TokensInBatch++;
        _count++;
    }
}
