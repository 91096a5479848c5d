using Microsoft.Extensions.Hosting;

namespace MoeMesh.Dashboard.Tests.Hosting;

public sealed class DashboardLayeringTests
{
    [Fact]
    public void The_dashboard_asks_the_mesh_through_the_sdk_not_the_grains()
    {
        var references = typeof(MoeMeshDashboardExtensions).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();

        Assert.DoesNotContain("MoeMesh.Grains", references);
        Assert.Contains("MoeMesh.Client", references);
    }
}
