namespace MoeMesh.Grains.Hosting;

/// <summary>The memory this silo lets models use, in bytes.</summary>
public sealed record ModelMemoryBudget(long Bytes);
