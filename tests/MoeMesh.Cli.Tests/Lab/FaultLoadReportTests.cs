using MoeMesh.Cli.Lab;

namespace MoeMesh.Cli.Tests.Lab;

/// <summary>How the fault lab turns queries, membership samples and marks into one fault's figures.</summary>
public sealed class FaultLoadReportTests
{
    [Fact]
    public void A_kill_is_detected_when_a_silo_leaves_and_recovered_when_its_queries_are_answered()
    {
        LabQuery[] queries =
        [
            new(100.0, 100.5, 1, null),
            new(101.0, 108.0, 1, null), // in flight at the kill, re-planned
            new(102.0, 102.4, 2, null), // answered twice
            new(103.0, 104.0, 0, "Timeout: no answer within 30 s"),
        ];
        MembershipSample[] samples = [new(100.0, 3), new(101.4, 3), new(105.0, 2), new(106.0, 2)];
        FaultMark[] marks = [new("kill", 101.5)];

        var report = FaultLoadReport.From(queries, samples, marks, expectedSilos: 2);

        Assert.Equal(("kill", 4, 3, 1, 1), (report.Fault, report.Sent, report.Answered, report.Failed, report.Duplicates));
        Assert.Equal(3.5, report.DetectSeconds);
        Assert.Equal(6.5, report.RecoverSeconds);
        Assert.Equal(3, report.MembersBefore);
        Assert.Equal(["1× Timeout: no answer within 30 s"], report.Errors);
    }

    [Fact]
    public void A_partition_recovers_from_the_heal_and_a_mesh_that_never_heals_has_no_recovery()
    {
        LabQuery[] queries = [new(100.0, 100.2, 1, null)];
        MembershipSample[] samples = [new(100.0, 3), new(108.0, 2), new(125.0, 2), new(131.0, 3)];

        var healed = FaultLoadReport.From(queries, samples, [new("partition", 101.0), new("heal", 121.0)], expectedSilos: 3);
        var stuck = FaultLoadReport.From(queries, samples[..3], [new("partition", 101.0), new("heal", 121.0)], expectedSilos: 3);

        Assert.Equal(7.0, healed.DetectSeconds);
        Assert.Equal(10.0, healed.RecoverSeconds);
        Assert.Null(stuck.RecoverSeconds);
    }

    [Fact]
    public void Marks_that_are_not_name_and_time_are_rejected()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "kill soon\n");
            Assert.Throws<FormatException>(() => FaultMark.Read(file));
            File.WriteAllText(file, "\n");
            Assert.Throws<FormatException>(() => FaultLoadReport.From([], [], FaultMark.Read(file), 3));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
