using System.Text.Json.Serialization;

namespace MoeMesh.Queries;

/// <summary>Which budget no plan can meet. Written in JSON as the names the mesh has always reported.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BindingBudget>))]
public enum BindingBudget
{
    /// <summary>Every budget can be met.</summary>
    [JsonStringEnumMemberName("none")]
    None = 0,

    /// <summary>Even the fastest single expert is over the latency budget.</summary>
    [JsonStringEnumMemberName("latency")]
    Latency = 1,

    /// <summary>Even the most frugal single expert is over the energy budget.</summary>
    [JsonStringEnumMemberName("energy")]
    Energy = 2,

    /// <summary>Each budget alone can be met, or neither can, but no expert meets both.</summary>
    [JsonStringEnumMemberName("latency and energy")]
    LatencyAndEnergy = 3,
}
