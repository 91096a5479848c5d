using MoeMesh.Inference.Generation;

namespace MoeMesh.Inference.Tests.Generation;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Text_stops_before_a_stop_string_split_across_pieces()
    {
        var filter = new StopStringFilter(["END"]);
        var emitted = new[] { "hello E", "N", "D and more" }.Select(filter.Append).ToList();
        Assert.Equal("hello ", string.Concat(emitted) + filter.Flush());
        Assert.True(filter.Stopped);
        Assert.Equal("END", filter.MatchedStop);
        Assert.Equal("", filter.Append("later"));
    }

    [Fact]
    public void A_partial_match_is_held_back_and_released_when_it_turns_out_not_to_be_a_stop()
    {
        var filter = new StopStringFilter(["</answer>"]);
        Assert.Equal("a ", filter.Append("a </an"));
        Assert.Equal("</anx", filter.Append("x"));
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void The_held_text_is_released_at_the_end()
    {
        var filter = new StopStringFilter(["###"]);
        Assert.Equal("x", filter.Append("x##"));
        Assert.Equal("##", filter.Flush());
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins()
    {
        var filter = new StopStringFilter(["world", "lo w"]);
        Assert.Equal("hel", filter.Append("hello world"));
        Assert.Equal("lo w", filter.MatchedStop);
    }

    [Fact]
    public void Without_stop_strings_text_passes_unchanged()
    {
        var filter = new StopStringFilter([]);
        Assert.Equal("abc", filter.Append("abc"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void No_emitted_prefix_ever_contains_the_start_of_a_stop_that_then_completes()
    {
        const string text = "one two <stop> three";
        for (var size = 1; size <= 5; size++)
        {
            var filter = new StopStringFilter(["<stop>"]);
            var emitted = "";
            for (var i = 0; i < text.Length; i += size)
            {
                emitted += filter.Append(text.Substring(i, Math.Min(size, text.Length - i)));
                Assert.DoesNotContain("<", emitted);
            }

            Assert.Equal("one two ", emitted + filter.Flush());
        }
    }
}
