using VlmRm.Envs.Hosting;

namespace VlmRm.Envs.Tests;

/// <summary>Pages without authentication (labelling page, dashboard) listen beyond this machine only when told to.</summary>
public class LoopbackBindingTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://[::1]:8080")]
    [InlineData("http://127.0.0.1:8080;http://localhost:8081")]
    public void Loopback_urls_are_accepted(string urls) => LoopbackBinding.Require(urls, "Dashboard:Urls", allowRemote: false, "Dashboard:AllowRemote=true");

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    [InlineData("http://192.168.1.5:8080")]
    [InlineData("http://127.0.0.1:8080;http://[::]:8080")]
    public void Other_addresses_are_refused_naming_the_setting_and_the_option_unless_allowed(string urls)
    {
        var error = Assert.Throws<ArgumentException>(() => LoopbackBinding.Require(urls, "Dashboard:Urls", allowRemote: false, "Dashboard:AllowRemote=true"));
        Assert.Contains("Dashboard:Urls", error.Message);
        Assert.Contains("listens beyond this machine", error.Message);
        Assert.Contains("Dashboard:AllowRemote=true", error.Message);
        LoopbackBinding.Require(urls, "Dashboard:Urls", allowRemote: true, "Dashboard:AllowRemote=true");
    }

    [Fact]
    public void A_url_that_is_not_one_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => LoopbackBinding.Require("localhost:8080", "--url", allowRemote: false, "--allow-remote"));
        Assert.Contains("--url: 'localhost:8080' is not a URL", error.Message);
    }
}
