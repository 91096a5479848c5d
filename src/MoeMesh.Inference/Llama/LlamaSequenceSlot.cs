namespace MoeMesh.Inference.Llama;

/// <summary>
/// One sequence of a llama.cpp context: its id, the tokens whose KV state it holds (in position
/// order), and the request using it, if any.
/// </summary>
internal sealed class LlamaSequenceSlot(int sequenceId)
{
    private volatile int[] _publishedHistory = [];

    public int SequenceId { get; } = sequenceId;

    /// <summary>Tokens in the KV cache for this sequence, positions 0..Count-1.</summary>
    public List<int> History { get; } = [];

    public LlamaGenerationJob? Job { get; set; }

    public long LastUsed { get; set; }

    /// <summary>A copy of <see cref="History"/> taken when the slot was last released, readable from any thread.</summary>
    public int[] PublishedHistory => _publishedHistory;

    public void PublishHistory() => _publishedHistory = [.. History];
}
