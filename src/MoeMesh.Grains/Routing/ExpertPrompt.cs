using System.Text;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>Builds what each expert is asked from the caller's query.</summary>
public static class ExpertPrompt
{
    /// <summary>Letters of multiple-choice options, in order.</summary>
    public static char Letter(int index) => (char)('A' + index);

    /// <summary>The generation request a responder receives.</summary>
    public static GenerationRequest ForResponder(Query query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var messages = query.Messages.ToList();
        if (query.Choices.Count > 0)
        {
            // Multiple choice: list the options and ask for the letter, so answers can be voted on.
            var last = messages.FindLastIndex(m => m.Role == ChatTurn.UserRole);
            var text = new StringBuilder(last >= 0 ? messages[last].Content : query.Question).AppendLine().AppendLine();
            for (var i = 0; i < query.Choices.Count; i++)
            {
                text.Append(Letter(i)).Append(". ").AppendLine(query.Choices[i]);
            }

            text.AppendLine().Append("Answer with the letter of the correct option.");
            var turn = ChatTurn.User(text.ToString());
            if (last >= 0)
            {
                messages[last] = turn;
            }
            else
            {
                messages.Add(turn);
            }
        }

        return new GenerationRequest
        {
            Messages = messages,
            MaxTokens = query.Options.MaxTokens,
            Stop = query.Options.Stop,
            Sampling = query.Options.Sampling,
            Overflow = PromptOverflowPolicy.TruncateStart,
        };
    }

    /// <summary>Rough prompt length in tokens (about four characters per token) for cost prediction.</summary>
    public static int EstimateTokens(Query query)
        => Math.Max(1, (query.Messages.Sum(m => m.Content.Length) + query.Choices.Sum(c => c.Length + 4)) / 4);
}
