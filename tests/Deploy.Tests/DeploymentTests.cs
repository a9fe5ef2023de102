using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using VlmRm.TestSupport;
using YamlDotNet.RepresentationModel;

namespace VlmRm.Deploy.Tests;

/// <summary>What can be checked of deploy/ without a cloud: Bicep compiles and lints clean, manifests parse and are sane, Dockerfiles point at real paths.</summary>
public sealed partial class DeploymentTests
{
    private static readonly string Root = TestPaths.RepositoryRoot;
    private static readonly string Bicep = typeof(DeploymentTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepPath").Value!;

    public static TheoryData<string> BicepFiles => [.. Directory.GetFiles(Path.Combine(Root, "deploy", "azure"), "*.bicep", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Root, f))];

    public static TheoryData<string> Dockerfiles => [.. Directory.GetFiles(Path.Combine(Root, "deploy", "docker"), "Dockerfile.*").Select(f => Path.GetRelativePath(Root, f))];

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Bicep_compiles_and_lints_without_a_diagnostic(string file)
    {
        Assert.True(File.Exists(Bicep), $"The Bicep CLI was not restored from NuGet to {Bicep}.");
        var (buildCode, buildOutput) = RunBicep("build", file, "--stdout");
        Assert.True(buildCode == 0, buildOutput);
        Assert.Contains("\"$schema\"", buildOutput, StringComparison.Ordinal);
        var (lintCode, lintOutput) = RunBicep("lint", file);
        Assert.True(lintCode == 0 && string.IsNullOrWhiteSpace(lintOutput), $"bicep lint {file}:\n{lintOutput}");
    }

    [Fact]
    public void Kubernetes_manifests_parse_and_silos_have_probes_and_time_to_checkpoint_on_shutdown()
    {
        var documents = Directory.GetFiles(Path.Combine(Root, "deploy", "azure", "k8s"), "*.yaml").SelectMany(LoadDocuments).ToList();
        Assert.NotEmpty(documents);
        foreach (var (file, doc) in documents)
        {
            foreach (var key in new[] { "apiVersion", "kind" }) Assert.True(doc.Children.ContainsKey(key), $"{file}: a document lacks {key}");
            Assert.Equal("vlmrm", Scalar(doc, "metadata", "namespace") ?? Scalar(doc, "metadata", "name"));
        }
        var config = documents.Single(d => Scalar(d.Doc, "kind") == "ConfigMap").Doc;
        var shutdownSeconds = int.Parse(Scalar(config, "data", "Silo__ShutdownSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
        var deployments = documents.Where(d => Scalar(d.Doc, "kind") == "Deployment").Select(d => d.Doc).ToList();
        Assert.Equal(2, deployments.Count);
        foreach (var deployment in deployments)
        {
            var pod = Map(deployment, "spec", "template", "spec");
            Assert.True(int.Parse(Scalar(pod, "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture) > shutdownSeconds, "pods must outlive the silo's shutdown budget");
            var container = (YamlMappingNode)((YamlSequenceNode)pod.Children["containers"]).Children[0];
            Assert.Equal("/healthz", Scalar(container, "readinessProbe", "httpGet", "path"));
            Assert.Equal("/healthz", Scalar(container, "livenessProbe", "httpGet", "path"));
            Assert.Equal("vlmrm-silo", Scalar(pod, "serviceAccountName"));
        }
        var gpu = deployments.Single(d => Scalar(d, "metadata", "name") == "vlmrm-silo-gpu");
        Assert.Contains("nvidia.com/gpu", YamlText(gpu), StringComparison.Ordinal);
        // GPU nodes render MuJoCo through NVIDIA's EGL, which the device plugin mounts only with the graphics capability.
        Assert.Matches(@"MUJOCO_GL\s+value: egl", YamlText(gpu));
        Assert.Contains("graphics", YamlText(gpu), StringComparison.Ordinal);
        var dashboard = documents.Single(d => Scalar(d.Doc, "kind") == "Service").Doc;
        Assert.Equal("ClusterIP", Scalar(dashboard, "spec", "type"));
        // Every image a manifest names is built by a Dockerfile here.
        foreach (Match image in ImageName().Matches(string.Join('\n', documents.Select(d => YamlText(d.Doc)))))
        {
            var suffix = image.Groups[1].Value["vlmrm-".Length..];
            Assert.True(File.Exists(Path.Combine(Root, "deploy", "docker", $"Dockerfile.{suffix}")), $"No Dockerfile builds {image.Groups[1].Value}.");
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Dockerfiles_copy_and_publish_paths_that_exist(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Root, file));
        var copies = lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1];
            foreach (var source in parts) Assert.True(File.Exists(Path.Combine(Root, source)) || Directory.Exists(Path.Combine(Root, source)), $"{file}: COPY {source} does not exist");
        }
        foreach (Match publish in PublishedProject().Matches(string.Join('\n', lines)))
        {
            var project = publish.Groups[1].Value;
            Assert.True(File.Exists(Path.Combine(Root, project)), $"{file}: dotnet publish {project} does not exist");
            var entry = lines.Single(l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal));
            Assert.Contains($"/app/VlmRm.{Path.GetFileNameWithoutExtension(project)}", entry, StringComparison.Ordinal);
        }
    }

    private static (int Code, string Output) RunBicep(params string[] arguments)
    {
        var start = new ProcessStartInfo(Bicep) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    private static IEnumerable<(string File, YamlMappingNode Doc)> LoadDocuments(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return stream.Documents.Select(d => (Path.GetFileName(path), (YamlMappingNode)d.RootNode));
    }

    private static YamlMappingNode Map(YamlMappingNode node, params string[] path) =>
        path.Aggregate(node, (current, key) => (YamlMappingNode)current.Children[new YamlScalarNode(key)]);

    private static string? Scalar(YamlMappingNode node, params string[] path)
    {
        var parent = Map(node, path[..^1]);
        return parent.Children.TryGetValue(new YamlScalarNode(path[^1]), out var value) ? ((YamlScalarNode)value).Value : null;
    }

    private static string YamlText(YamlNode node)
    {
        var stream = new YamlStream(new YamlDocument(node));
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    [GeneratedRegex(@"\$\{REGISTRY\}/(vlmrm-[a-z-]+):")]
    private static partial Regex ImageName();

    [GeneratedRegex(@"dotnet publish (\S+\.csproj)")]
    private static partial Regex PublishedProject();
}
