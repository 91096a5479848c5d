using System.Text.Json.Serialization;

namespace MoeMesh.Generation;

/// <summary>What measured (or estimated) a run's energy.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MeterKind>))]
public enum MeterKind
{
    /// <summary>Nothing: the run never reached an engine (skipped, or failed before it ran).</summary>
    [JsonStringEnumMemberName("none")]
    None = 0,

    /// <summary>The device profile's power model: idle power when idle, maximum power while generating.</summary>
    [JsonStringEnumMemberName("model")]
    Model = 1,

    /// <summary>NVIDIA's management library (desktop and server GPUs).</summary>
    [JsonStringEnumMemberName("nvml")]
    Nvml = 2,

    /// <summary>The INA3221 power monitors of Jetson boards.</summary>
    [JsonStringEnumMemberName("ina3221")]
    Ina3221 = 3,

    /// <summary>Intel and AMD RAPL counters.</summary>
    [JsonStringEnumMemberName("rapl")]
    Rapl = 4,

    /// <summary>The engine reported the energy itself.</summary>
    [JsonStringEnumMemberName("engine")]
    Engine = 5,

    /// <summary>The trace-replay engine reported the recorded energy.</summary>
    [JsonStringEnumMemberName("replay")]
    Replay = 6,
}
