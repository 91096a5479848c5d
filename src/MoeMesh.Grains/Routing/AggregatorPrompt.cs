using System.Text;
using MoeMesh.Generation;
using MoeMesh.Queries;

namespace MoeMesh.Grains.Routing;

/// <summary>
/// The prompt the aggregator expert receives: the question (with its options), then every
/// responder's answer labelled by expert, and an instruction to write one final answer that
/// weighs their reasoning rather than copying the majority. For multiple-choice questions it
/// must end with "The answer is (X)", so the letter can be read back.
/// </summary>
public static class AggregatorPrompt
{
    public const string Instruction =
        "You are the aggregator of a panel of expert models. Read the question and the experts' answers. " +
        "Some answers may be wrong: check their reasoning, keep what is right, and write the single best final answer in your own words.";

    public static GenerationRequest Build(Query query, IReadOnlyList<ExpertRun> answers)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(answers);
        var text = new StringBuilder();
        text.Append("Question: ").AppendLine(query.Question);
        if (query.Choices.Count > 0)
        {
            text.AppendLine();
            for (var i = 0; i < query.Choices.Count; i++)
            {
                text.Append(ExpertPrompt.Letter(i)).Append(". ").AppendLine(query.Choices[i]);
            }
        }

        text.AppendLine().AppendLine("Expert answers:");
        for (var i = 0; i < answers.Count; i++)
        {
            text.Append('[').Append(i + 1).Append("] ").Append(answers[i].ExpertId).Append(": ").AppendLine(answers[i].Text.Trim());
        }

        text.AppendLine().Append(query.Choices.Count > 0
            ? "Write the final answer, ending with \"The answer is (X)\" where X is the letter of the correct option."
            : "Write the final answer.");

        return new GenerationRequest
        {
            Messages = [ChatTurn.System(Instruction), ChatTurn.User(text.ToString())],
            MaxTokens = query.Options.MaxTokens,
            Stop = query.Options.Stop,
            Sampling = query.Options.Sampling,
            Overflow = PromptOverflowPolicy.TruncateStart,
            Panel = [.. answers.Select(a => new PanelAnswer(a.ExpertId, a.Choice ?? (query.Choices.Count > 0 ? ChoiceExtractor.Extract(a.Text, query.Choices.Count) : null)))],
        };
    }
}
