namespace MoeMesh.Grains.Routing;

/// <summary>How the router plans and runs queries, bound from <c>MoeMesh:Routing</c>.</summary>
public sealed class RouterOptions
{
    /// <summary>
    /// The recorded outputs the router learns from (the MMLU-Pro recordings: the
    /// <c>mmlu_pro_29_models.jsonl.gz</c> file or its folder). With it, experts whose manifests name a
    /// <c>recordedModel</c> are scored by a gate and skill profiles fitted on the training split, and
    /// query skills are found by a lexical model learned there; without it, experts are scored by
    /// their manifests' skill tags and sizes.
    /// </summary>
    public string? TrainingData { get; set; }

    /// <summary>
    /// An expert id to ask for each query's skills (2–5 keywords, asked several times, keeping the
    /// repeated ones, as Symbolic-MoE does). Unset: the lexical skill model learned from the training
    /// data, or the question's words.
    /// </summary>
    public string? SkillExpert { get; set; }

    /// <summary>
    /// A fit written by <c>moemesh eval --save-fit</c>: the gate, adaptive-k thresholds, skill model,
    /// profiles and aggregator are loaded from it instead of being fitted at start (the training data
    /// still supplies the cost tables). Used for pools inside the fit's pool.
    /// </summary>
    public string? FitFile { get; set; }

    /// <summary>
    /// Sentence embeddings for routing: <c>none</c>, or <c>minilm</c> (all-MiniLM-L6-v2 on the CPU) so the
    /// gate fitted at start reads question embeddings and Symbolic-MoE matches keywords by meaning. A fit
    /// file that was fitted with embeddings turns them on by itself.
    /// </summary>
    public string Embeddings { get; set; } = "none";

    /// <summary>Folder of cached training-question embeddings; unset: ~/.moemesh/cache/embeddings.</summary>
    public string? EmbeddingCache { get; set; }

    /// <summary>Chooses k per query from the gate's confidence (thresholds fitted on the training split) when the query does not set k.</summary>
    public bool AdaptiveK { get; set; }

    /// <summary>Experts to run when the query does not say, for the multi-expert strategies (symbolic, moe2).</summary>
    public int DefaultK { get; set; } = 3;

    /// <summary>How fast a model that is not loaded can be read from disk, for the load time a plan must include (GB/s).</summary>
    public double ModelLoadGBps { get; set; } = 2.0;

    /// <summary>How many times one step may move to another replica or expert after a failure.</summary>
    public int MaxFailovers { get; set; } = 2;

    /// <summary>
    /// When a call was lost on its way (the silo it could not reach is not the one it was meant for,
    /// as when a killed silo still owns the grain directory partition), how long the failover waits
    /// for membership to declare that silo dead before trying again; 0 retries at once.
    /// </summary>
    public TimeSpan DeadSiloWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a failover waits for a fresh catalog before re-planning from the snapshot it has.</summary>
    public TimeSpan CatalogRefreshTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long queries wait so that those recruited to the same expert reach it together and are
    /// decoded as one batch; 0 sends every query at once.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How often a running query's stream carries a <see cref="Queries.QueryHeartbeat"/>, so callers can
    /// tell a lost router from a slow expert; 0 sends none.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long an event of a query's stream may wait for its caller to ask for it before the caller
    /// counts as gone (process killed, connection dropped) and the query is cancelled, so its experts
    /// stop; 0 never. Matches the SDK's silence timeout; needs heartbeats to notice a caller that
    /// vanished while the experts were silent.
    /// </summary>
    public TimeSpan CallerSilenceTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
