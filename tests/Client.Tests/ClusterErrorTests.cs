namespace VlmRm.Client.Tests;

/// <summary>A cluster the client cannot reach is named in the error by its endpoint, never with its password.</summary>
public class ClusterErrorTests
{
    [Fact]
    public async Task An_unreachable_cluster_is_named_without_its_redis_password()
    {
        var folder = Directory.CreateTempSubdirectory("vlmrm-cli-cluster-").FullName;
        const string password = "hunter2-do-not-print";
        var result = await CliProcess.RunAsync(folder, TimeSpan.FromMinutes(2), "status", "some-sweep", "--cluster", $"127.0.0.1:1,password={password},connectTimeout=500");
        var everything = string.Join('\n', result.Lines) + result.Errors;
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Could not reach the cluster through Redis '127.0.0.1:1", everything);
        Assert.DoesNotContain(password, everything);
    }
}
