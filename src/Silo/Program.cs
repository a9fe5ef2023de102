using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using VlmRm.Clip.Models;
using VlmRm.Envs.Hosting;
using VlmRm.Grains;

// A standalone silo. Configuration (appsettings.json, environment variables VlmRm__*, command line):
//   VlmRm:Clustering localhost|redis, VlmRm:RedisConnectionString, VlmRm:DataDirectory,
//   VlmRm:CheckpointStore file|blob, VlmRm:BlobConnectionString | VlmRm:BlobServiceUri,
//   Silo:SiloPort, Silo:GatewayPort, Silo:AdvertisedIP (the pod's IP in a cluster), Silo:ClusterId,
//   Silo:ShutdownSeconds (graceful shutdown budget), Dashboard:Urls (loopback unless Dashboard:AllowRemote=true), Clip:* (ClipRuntimeOptions),
//   VlmRm:Devices (cuda|cpu, advertised in silo metadata; detected by default), VlmRm:SweepWatchPeriod (reminder that
//   wakes sweeps after a silo dies; 00:01:00), RewardBatching:MaxBatchFrames|MaxWait|MaxMessageBytes.
// The dashboard is at /dashboard, the runs page at /vlmrm (SiloPages), Prometheus metrics (meters VlmRm and Microsoft.Orleans) at /metrics.
try
{
    var builder = WebApplication.CreateBuilder(args);
    // A start that fails is reported below in one line naming the setting; the host's own log would add a stack trace.
    builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
    var options = builder.Configuration.GetSection("VlmRm").Get<VlmRmSiloOptions>() ?? new VlmRmSiloOptions();
    var clip = builder.Configuration.GetSection("Clip").Get<ClipRuntimeOptions>() ?? new ClipRuntimeOptions();
    var siloPort = builder.Configuration.GetValue("Silo:SiloPort", 11111);
    var gatewayPort = builder.Configuration.GetValue("Silo:GatewayPort", 30000);
    var dashboardUrls = builder.Configuration.GetValue("Dashboard:Urls", "http://127.0.0.1:8080")!;
    // The dashboard and /metrics have no authentication: beyond loopback only when asked for (the container images do,
    // where the pod's cluster-internal service is the boundary).
    LoopbackBinding.Require(dashboardUrls, "Dashboard:Urls", builder.Configuration.GetValue("Dashboard:AllowRemote", false), "Dashboard:AllowRemote=true");
    builder.WebHost.UseUrls(dashboardUrls);
    // On SIGTERM (a pod being stopped) Orleans deactivates every grain; learners checkpoint on deactivation,
    // which needs more than the host's default 30 s when a replay buffer goes to blob storage.
    var shutdownBudget = TimeSpan.FromSeconds(builder.Configuration.GetValue("Silo:ShutdownSeconds", 90));
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownBudget);

    builder.Services.AddVlmRmPages();
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(VlmRmMetrics.MeterName, "Microsoft.Orleans").AddPrometheusExporter());

    builder.UseOrleans(silo =>
    {
        if (options.Clustering == ClusteringKind.Localhost) silo.UseLocalhostClustering(siloPort, gatewayPort);
        else silo.ConfigureEndpoints(System.Net.IPAddress.Parse(builder.Configuration.GetValue("Silo:AdvertisedIP", "127.0.0.1")!), siloPort, gatewayPort);
        silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = builder.Configuration.GetValue("Silo:ClusterId", "vlmrm")!;
            o.ServiceId = "vlmrm";
        });
        silo.AddVlmRmSilo(options, clip);
        silo.AddDashboard();
    });

    var app = builder.Build();
    // With Redis or blob storage gone a graceful stop can outlive the budget; the watchdog ends it and says why.
    ShutdownWatchdog.Arm(app.Lifetime, shutdownBudget, options, app.Logger);
    app.MapVlmRmPages();
    app.MapPrometheusScrapingEndpoint();
    app.Run();
    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or Microsoft.Extensions.Options.OptionsValidationException)
{
    Console.Error.WriteLine($"The silo cannot start: {VlmRm.Silo.StartupErrors.Describe(e)}");
    return 2;
}
