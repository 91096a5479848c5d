using MoeMesh.Generation;

namespace MoeMesh.Queries;

/// <summary>A question put to the mesh.</summary>
[GenerateSerializer, Immutable]
[Alias("moemesh.query")]
public sealed record Query
{
    /// <summary>The longest prompt accepted, in characters, summed over messages.</summary>
    public const int MaxPromptChars = 256 * 1024;

    /// <summary>Identifies the query in plans, logs and the dashboard.</summary>
    [Id(0)] public string Id { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary>The conversation; the last user message is the question.</summary>
    [Id(1)] public required IReadOnlyList<ChatTurn> Messages { get; init; }

    /// <summary>Strategy, budgets and generation settings.</summary>
    [Id(2)] public QueryOptions Options { get; init; } = new();

    /// <summary>For multiple-choice questions, the options in order (A, B, C, …); answers are then combined by vote.</summary>
    [Id(3)] public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>A query made of one user message.</summary>
    public static Query FromPrompt(string prompt, QueryOptions? options = null)
        => new() { Messages = [ChatTurn.User(prompt)], Options = options ?? new() };

    /// <summary>The text of the last user message.</summary>
    public string Question => Messages.LastOrDefault(m => m.Role == ChatTurn.UserRole)?.Content ?? Messages.LastOrDefault()?.Content ?? "";

    /// <summary>Problems with the query, each naming the field; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>(Options.Validate());
        if (string.IsNullOrWhiteSpace(Id) || Id.Length > 128)
        {
            problems.Add("query id must be 1 to 128 characters");
        }

        if (Messages.Count == 0 || Messages.All(m => string.IsNullOrWhiteSpace(m.Content)))
        {
            problems.Add("the query has no text");
        }

        var chars = Messages.Sum(m => (long)(m.Content?.Length ?? 0));
        if (chars > MaxPromptChars)
        {
            problems.Add($"the prompt has {chars} characters; the limit is {MaxPromptChars}");
        }

        if (Choices.Count > 26)
        {
            problems.Add($"at most 26 choices are allowed, got {Choices.Count}");
        }

        return problems;
    }
}
