using MoeMesh.Queries;
using MoeMesh.Routing.Gating;

namespace MoeMesh.Routing.Tests.Gating;

public sealed class AnswerCombinerTests
{
    [Fact]
    public void One_responder_without_an_aggregator_is_the_answer()
    {
        var combined = AnswerCombiner.Combine([new ExpertAnswer("It is B", "B", 0.4)], multipleChoice: true, single: true, hasAggregator: false);

        Assert.Equal(new CombinedAnswer(0, "B", AnswerCombination.Single, AggregatorAction.None), combined);
    }

    [Fact]
    public void Agreeing_letters_skip_the_aggregator_and_answer_with_the_heaviest()
    {
        ExpertAnswer[] answers = [new("B, surely", "B", 0.5, 0), new("(B)", "B", 2.0, 1), new("B", "B", 1.0, 2)];

        var combined = AnswerCombiner.Combine(answers, multipleChoice: true, single: false, hasAggregator: true);

        Assert.Equal(new CombinedAnswer(1, "B", AnswerCombination.Agreement, AggregatorAction.SkipAgreement), combined);
    }

    [Fact]
    public void The_gate_weighted_vote_lets_one_confident_expert_outvote_two_unsure_ones()
    {
        ExpertAnswer[] answers = [new("A", "A", 0.4, 0), new("A", "A", 0.5, 1), new("C", "C", 1.2, 2)];

        var combined = AnswerCombiner.Combine(answers, multipleChoice: true, single: false, hasAggregator: false);

        Assert.Equal(new CombinedAnswer(2, "C", AnswerCombination.Vote, AggregatorAction.None), combined);
    }

    [Fact]
    public void Ballots_are_cast_in_plan_order_so_a_tie_goes_to_the_earliest_step()
    {
        // Equal weights, one ballot each: the tie goes to the answer first in plan order, whatever order the runs finished in.
        ExpertAnswer[] answers = [new("D", "D", 1, Order: 1), new("A", "A", 1, Order: 0)];

        var (answer, choice) = AnswerCombiner.Vote(answers, multipleChoice: true);

        Assert.Equal(1, answer);
        Assert.Equal("A", choice);
    }

    [Fact]
    public void Disagreement_with_an_aggregator_runs_it_and_its_answer_wins()
    {
        ExpertAnswer[] answers = [new("A", "A", 1, 0), new("C", "C", 0.5, 1)];

        var combined = AnswerCombiner.Combine(answers, multipleChoice: true, single: false, hasAggregator: true);
        Assert.Equal(AggregatorAction.Run, combined.Aggregator);

        var aggregated = combined.AfterAggregator(answered: true, aggregatorChoice: "C");
        Assert.Equal(AnswerCombination.Aggregator, aggregated.Combination);
        Assert.Equal("C", aggregated.Choice);

        var withoutLetter = combined.AfterAggregator(answered: true, aggregatorChoice: null);
        Assert.Equal("A", withoutLetter.Choice);

        var failed = combined.AfterAggregator(answered: false, aggregatorChoice: null);
        Assert.Equal(new CombinedAnswer(0, "A", AnswerCombination.Vote, AggregatorAction.Run), failed);
    }

    [Fact]
    public void An_aggregator_with_no_time_left_is_skipped_for_the_vote_or_the_best_weighted_text()
    {
        ExpertAnswer[] letters = [new("A", "A", 1, 0), new("C", "C", 0.5, 1)];
        var vote = AnswerCombiner.Combine(letters, multipleChoice: true, single: false, hasAggregator: true, aggregatorFits: false);
        Assert.Equal(new CombinedAnswer(0, "A", AnswerCombination.Vote, AggregatorAction.SkipNoTime), vote);

        ExpertAnswer[] texts = [new("short", null, 0.2, 0), new("a longer answer", null, 0.9, 1)];
        var text = AnswerCombiner.Combine(texts, multipleChoice: false, single: false, hasAggregator: true, aggregatorFits: false);
        Assert.Equal(new CombinedAnswer(1, null, AnswerCombination.BestWeighted, AggregatorAction.SkipNoTime), text);
    }

    [Fact]
    public void One_answer_left_of_several_skips_the_aggregator()
    {
        // Without a letter it agrees with nothing: a single answer.
        var unlettered = AnswerCombiner.Combine([new ExpertAnswer("x", null, 1)], multipleChoice: true, single: false, hasAggregator: true);
        Assert.Equal(new CombinedAnswer(0, null, AnswerCombination.Single, AggregatorAction.SkipSingleAnswer), unlettered);

        // One answer agrees with itself.
        var lettered = AnswerCombiner.Combine([new ExpertAnswer("B", "B", 1)], multipleChoice: true, single: false, hasAggregator: true);
        Assert.Equal(new CombinedAnswer(0, "B", AnswerCombination.Agreement, AggregatorAction.SkipAgreement), lettered);
    }

    [Fact]
    public void Free_text_agrees_up_to_case_and_spacing_and_otherwise_takes_the_heaviest()
    {
        ExpertAnswer[] same = [new("Paris  is the capital", null, 0.3), new("paris is\nthe capital", null, 0.9)];
        Assert.True(AnswerCombiner.Agree(same, multipleChoice: false));
        Assert.Equal(AnswerCombination.Agreement, AnswerCombiner.Combine(same, multipleChoice: false, single: false, hasAggregator: false).Combination);

        ExpertAnswer[] different = [new("Paris", null, 0.3), new("Lyon", null, 0.9), new("Nice", null, 0.9)];
        var combined = AnswerCombiner.Combine(different, multipleChoice: false, single: false, hasAggregator: false);
        Assert.Equal(new CombinedAnswer(1, null, AnswerCombination.BestWeighted, AggregatorAction.None), combined);
    }

    [Fact]
    public void Multiple_choice_without_any_letter_falls_back_to_the_best_weighted_answer()
    {
        ExpertAnswer[] answers = [new("no idea", null, 0.3), new("cannot tell", null, 0.6)];

        Assert.False(AnswerCombiner.Agree(answers, multipleChoice: true));
        var combined = AnswerCombiner.Combine(answers, multipleChoice: true, single: false, hasAggregator: false);

        Assert.Equal(new CombinedAnswer(1, null, AnswerCombination.BestWeighted, AggregatorAction.None), combined);
    }

    [Fact]
    public void No_answers_is_an_error_not_a_guess()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AnswerCombiner.Combine([], multipleChoice: true, single: false, hasAggregator: false));
    }
}
