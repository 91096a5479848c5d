using System.Text.Json.Serialization;

namespace MoeMesh.Queries;

/// <summary>How a query's final answer was formed from its experts' answers.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AnswerCombination>))]
public enum AnswerCombination
{
    /// <summary>One expert answered; its answer is the answer.</summary>
    [JsonStringEnumMemberName("single")]
    Single = 0,

    /// <summary>Every responder gave the same answer.</summary>
    [JsonStringEnumMemberName("agreement")]
    Agreement = 1,

    /// <summary>The gate-weighted vote over the responders' choice letters.</summary>
    [JsonStringEnumMemberName("vote")]
    Vote = 2,

    /// <summary>Free text without agreement: the answer of the responder weighted highest.</summary>
    [JsonStringEnumMemberName("best-weighted")]
    BestWeighted = 3,

    /// <summary>The aggregator expert wrote the answer from the responders'.</summary>
    [JsonStringEnumMemberName("aggregator")]
    Aggregator = 4,
}
