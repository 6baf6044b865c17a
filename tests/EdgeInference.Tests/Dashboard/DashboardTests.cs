using EdgeInference.Contracts;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeInference.Testing;
using EdgeInference.Testing.Onnx;
using OpenQA.Selenium;

namespace EdgeInference.Tests.Dashboard;

/// <summary>The fleet dashboard in a real headless chromium against a real fleet with agents; screenshots land in artifacts/screenshots.</summary>
public sealed partial class DashboardTests
{
    private const int Devices = 4;
    private static readonly byte[] V1 = OnnxModelBuilder.Mlp(8, [16], seed: 1);
    private static readonly byte[] V2 = OnnxModelBuilder.Mlp(8, [16], seed: 2);

    [Fact]
    public async Task Dashboard_ShowsTheFleet_FollowsARolloutLiveWithoutReloading_AndItsPauseButtonPausesItInTheApi()
    {
        Assert.Null(HeadlessBrowser.Missing());
        await using var bed = await FleetTestbed.StartAsync();
        await bed.PushTwoVersionsAsync("scorer", V1, V2);
        var v1 = bed.BuildPackage("scorer", "1.0.0", V1, goldenFrom: V1, bed.Key);
        await bed.StartAgentsAsync(Devices, v1, i => [$"ring={(i == 0 ? "canary" : "main")}"]);
        using var browser = HeadlessBrowser.Start();
        var page = browser.Driver;

        // The overview: four devices online, all on 1.0.0 (the token comes in the link, as the demo prints it).
        page.Navigate().GoToUrl($"{bed.Fleet.Url}/dashboard/#token={FleetHost.OperatorToken}");
        browser.WaitFor(d => d.FindElement(By.Id("devices-online")).Text == $"{Devices}", TimeSpan.FromSeconds(20), "four devices online");
        // Read inside waits: the page redraws on the fleet's events, so an element found a moment ago may be stale.
        browser.WaitFor(d => d.FindElement(By.Id("devices-total")).Text == $"{Devices}"
            && d.FindElement(By.CssSelector("tr[data-version='scorer@1.0.0'] .count")).Text == $"{Devices}"
            && d.FindElements(By.CssSelector("#devices tr[data-device]")).Count == Devices, TimeSpan.FromSeconds(10), "four devices, all on scorer 1.0.0");
        Assert.DoesNotContain("token=", page.Url, StringComparison.Ordinal);
        browser.Screenshot("dashboard-overview");

        // Every device benchmarks 2.0.0 first; the rollout's page shows their figures.
        await bed.Fleet.SendAsync(HttpMethod.Post, "packages/scorer/2.0.0/benchmarks", new JsonObject { ["target"] = "", ["iterations"] = 5 });
        await AgentHost.WaitUntilAsync(
            () => Enumerable.Range(0, Devices).All(i => bed.Fleet.Store.ListCommands(FleetTestbed.DeviceId(i)).Any(c => c.Message.Command == "benchmark" && c.Final)),
            TimeSpan.FromSeconds(30), "every device's benchmark answered");

        // A rollout starts; the overview lists it live, and its page follows it from stage to stage.
        page.ExecuteScript("window.__samePage = 'yes';");
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0", ["stages"] = "1,2,100%", ["soak"] = "3s" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        browser.WaitFor(d => d.FindElements(By.CssSelector($"tr[data-rollout='{id}']")).Count == 1, TimeSpan.FromSeconds(10), "the new rollout in the overview");
        browser.Click(By.CssSelector($"tr[data-rollout='{id}'] a"), "the new rollout's link", d => d.Url.Contains(id, StringComparison.Ordinal));
        browser.WaitFor(d => d.FindElement(By.Id("rollout-stage")).Text == "1", TimeSpan.FromSeconds(10), "the rollout at stage 1");
        browser.WaitFor(d => d.FindElements(By.CssSelector("#stages [data-stage='0'] tr[data-device]")).Count == 1, TimeSpan.FromSeconds(10), "the canary in stage 1");
        browser.WaitFor(d => d.FindElements(By.CssSelector("#benchmarks tr[data-device]")) is { Count: Devices } rows && rows.All(r => r.Text.Contains("CPU", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "every device's benchmark on the rollout's page");
        browser.WaitFor(d => d.FindElement(By.Id("rollout-stage")).Text == "2", TimeSpan.FromSeconds(30), "the rollout advancing to stage 2");
        browser.Screenshot("dashboard-rollout-advancing");
        browser.WaitFor(d => d.FindElements(By.CssSelector("#events tr[data-kind]")).Any(e => e.GetAttribute("data-kind") == "advanced"), TimeSpan.FromSeconds(10), "the advanced event");

        // Pause from the page: the API says paused, and the page shows it.
        browser.Click(By.CssSelector("button[data-action='pause']"), "the pause button");
        await AgentHost.WaitUntilAsync(() => bed.Fleet.Store.GetRollout(id)!.State == RolloutState.Paused, TimeSpan.FromSeconds(10), "the rollout paused through the API");
        browser.WaitFor(d => d.FindElement(By.Id("rollout-state")).Text == "paused", TimeSpan.FromSeconds(10), "the paused state");
        Assert.StartsWith("operator:", bed.Fleet.Store.ListEvents(id).Last(e => e.Kind == "paused").By, StringComparison.Ordinal);
        browser.Screenshot("dashboard-rollout-paused");
        // All of it live: the page was never reloaded, and it redrew on the fleet's events.
        Assert.Equal("yes", page.ExecuteScript("return window.__samePage;"));
        Assert.True(Convert.ToInt64(page.ExecuteScript("return window.__dashboard.renders;"), System.Globalization.CultureInfo.InvariantCulture) > 3);

        // The canary's page draws its charts from its telemetry history, and lists its update.
        var canary = bed.Fleet.Store.ListAssignments(id).Single(a => a.Stage == 0).DeviceId;
        page.Navigate().GoToUrl($"{bed.Fleet.Url}/dashboard/#/devices/{canary}");
        browser.WaitFor(d => d.FindElements(By.CssSelector("#charts .uplot")).Count == 6, TimeSpan.FromSeconds(10), "six charts");
        browser.WaitFor(d => d.FindElement(By.Id("updates")).Text.Contains("deploy 2.0.0 succeeded", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the update history");
        browser.WaitFor(d => d.FindElement(By.Id("device-models")).Text.Contains("2.0.0", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the device's models with 2.0.0");
        browser.Screenshot("dashboard-device");

        // The same state for Prometheus: the paused rollout, its gates against their thresholds, versions by device.
        // A device of the paused stage may still be finishing its install, so the count of devices on 2.0.0 is read
        // from the store before and after the metrics, until it held still in between.
        string metrics;
        int onV2;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            onV2 = bed.Fleet.Store.ListDevices().Count(d => d.ServingVersion("scorer") == "2.0.0");
            metrics = await MetricsAsync(bed.Fleet.Url, FleetHost.OperatorToken);
            if (onV2 == bed.Fleet.Store.ListDevices().Count(d => d.ServingVersion("scorer") == "2.0.0") || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Contains($"edgefleet_rollout_info{{rollout=\"{id}\",model=\"scorer\",version=\"2.0.0\",state=\"paused\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains($"edgefleet_rollout_gate_threshold{{rollout=\"{id}\",gate=\"install_rate\",operator=\">=\"}} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("edgefleet_devices{state=\"online\"} 4", metrics, StringComparison.Ordinal);
        Assert.Contains($"edgefleet_model_version_devices{{model=\"scorer\",version=\"2.0.0\",provider=\"CPU\"}} {onV2}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_WithAReaderToken_ShowsRolloutsButOffersNoActions_AndABadTokenGetsTheSignInForm()
    {
        Assert.Null(HeadlessBrowser.Missing());
        await using var bed = await FleetTestbed.StartAsync("--reader-token", "dashboard-reader-token");
        await bed.PushTwoVersionsAsync("scorer", V1, V2);
        var started = await bed.Fleet.StartRolloutAsync(new JsonObject { ["model"] = "scorer", ["version"] = "2.0.0" });
        var id = started!["rollout"]!["id"]!.GetValue<string>();
        using var browser = HeadlessBrowser.Start();
        var page = browser.Driver;

        page.Navigate().GoToUrl($"{bed.Fleet.Url}/dashboard/#token=not-a-token");
        browser.WaitFor(d => d.FindElement(By.Id("login-error")).Text.Contains("not accepted", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the sign-in form with the refusal");
        page.FindElement(By.Id("token")).SendKeys("dashboard-reader-token");
        browser.Click(By.CssSelector("#login-form button"), "the sign-in button");
        browser.WaitFor(d => d.FindElement(By.Id("who")).Text == "reader", TimeSpan.FromSeconds(10), "the reader role");
        page.Navigate().GoToUrl($"{bed.Fleet.Url}/dashboard/#/rollouts/{id}");
        // Read within one wait: the page redraws on the fleet's events, so buttons found a moment ago may be stale.
        browser.WaitFor(d => d.FindElements(By.CssSelector("button[data-action]")) is { Count: 5 } buttons && buttons.All(b => !b.Enabled), TimeSpan.FromSeconds(10),
            "the rollout page with its five actions disabled");
        browser.Screenshot("dashboard-reader");

        // The API refuses readers' actions whatever a page does, and /metrics needs a token.
        using var http = new HttpClient();
        using var pause = new HttpRequestMessage(HttpMethod.Post, $"{bed.Fleet.Url}/api/v1/rollouts/{id}/pause");
        pause.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "dashboard-reader-token");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(pause)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri($"{bed.Fleet.Url}/metrics"))).StatusCode);
    }

    [Fact]
    public async Task GrafanaDashboard_UsesOnlyMetricsTheFleetServiceExports()
    {
        await using var fleet = await FleetHost.StartAsync();
        var metrics = await MetricsAsync(fleet.Url, FleetHost.OperatorToken);
        var exported = TypeLine().Matches(metrics).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "fleet", "dashboards"), "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
            var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]?.AsArray() ?? []).Select(t => t!["expr"]!.GetValue<string>()).ToArray();
            Assert.NotEmpty(expressions);
            foreach (var expression in expressions)
            {
                var used = MetricName().Matches(expression).Select(m => m.Value).ToArray();
                Assert.NotEmpty(used);
                Assert.All(used, name => Assert.True(exported.Contains(name), $"{Path.GetFileName(file)}: '{expression}' uses {name}, which /metrics does not export"));
            }
        }
    }

    private static async Task<string> MetricsAsync(string url, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{url}/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"edgefleet_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
