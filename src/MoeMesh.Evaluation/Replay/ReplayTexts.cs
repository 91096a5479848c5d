using MoeMesh.Queries;

namespace MoeMesh.Evaluation.Replay;

/// <summary>
/// What a replayed expert writes. The recording keeps each model's answer letter, not its text, so
/// the text is a short sentence that names the recorded letter in the form the router reads
/// ("The answer is (C).") or, where the model gave no letter, one that names none.
/// </summary>
public static class ReplayTexts
{
    /// <summary>The responder's first chunk, written after the prefill time.</summary>
    public const string ResponderOpening = "The answer is";

    /// <summary>The first chunk of a responder whose recorded run gave no letter.</summary>
    public const string NoLetterOpening = "The recorded run";

    /// <summary>The rest of a responder's text without a letter.</summary>
    public const string NoLetterClosing = " gave no answer.";

    /// <summary>The aggregator's first chunk.</summary>
    public const string AggregatorOpening = "Having read the panel,";

    /// <summary>The rest of an aggregator's text when it does not side with any panel answer.</summary>
    public const string AggregatorAbstains = " none of the proposed options matches my own reading.";

    /// <summary>The rest of a responder's text: the letter.</summary>
    public static string ResponderClosing(string letter) => $" ({letter}).";

    /// <summary>The rest of an aggregator's text when it sides with a panel answer.</summary>
    public static string AggregatorClosing(string letter) => $" the answer is ({letter}).";

    /// <summary>The letter an answer text names among <paramref name="choiceCount"/> options, read the way the router reads experts' answers.</summary>
    public static string? LetterIn(string text, int choiceCount) => ChoiceExtractor.Extract(text, choiceCount);
}
