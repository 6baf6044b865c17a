using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EdgeInference.Fleet.Rollouts;
using EdgeInference.Testing;

namespace EdgeInference.Tests.Fleet;

/// <summary>Bad requests to the fleet's API get a 4xx JSON error naming the problem; limits are the fleet's, not Kestrel's.</summary>
public sealed class FleetBadInputTests : IAsyncLifetime
{
    private FleetHost _fleet = null!;

    public async Task InitializeAsync() => _fleet = await FleetHost.StartAsync(null, "--Fleet:MaxPackageFileBytes=64000000");

    public async Task DisposeAsync() => await _fleet.DisposeAsync();

    [Theory]
    [InlineData("1e12s")]
    [InlineData("1e300h")]
    [InlineData("10675199.02:48:05")]
    public async Task ARolloutWithAnAbsurdSoak_Is400NamingTheSoak(string soak)
    {
        var (status, error) = await SendAsync(HttpMethod.Post, "rollouts", $$"""{"model":"m","version":"1.0.0","soak":"{{soak}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"soak '{soak}' is longer than 366 days", error);
    }

    [Theory]
    [InlineData("""{"model":"m","version":""", "request body")]
    [InlineData("""{"model":"m","version":"1.0.0","stages":7}""", "$.stages")]
    [InlineData("""[1,2]""", "request body")]
    public async Task ARolloutRequestThatIsNotItsJson_Is400NamingWhere(string body, string named)
    {
        var (status, error) = await SendAsync(HttpMethod.Post, "rollouts", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(named, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(100_001)]
    public async Task ARolloutWithAMaxPerMinuteOutOfRange_Is400NamingIt(int rate)
    {
        var (status, error) = await SendAsync(HttpMethod.Post, "rollouts", $$"""{"model":"m","version":"1.0.0","max_per_minute":{{rate}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"max_per_minute {rate} must be between 1 and 100000", error);
    }

    [Fact]
    public async Task APackageFileLargerThanKestrelsDefaultLimit_IsAccepted()
    {
        using var content = new ByteArrayContent(new byte[40_000_000]);
        using var response = await _fleet.Http.PutAsync(new Uri("packages/big/1.0.0/files/model.onnx", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(40_000_000, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["size"]!.GetValue<long>());
    }

    [Fact]
    public async Task APackageFileOverTheFleetsLimit_Is413NamingTheLimit()
    {
        // Expect: 100-continue, as a client pushing a big file should: the refusal comes before the body is sent.
        using var request = new HttpRequestMessage(HttpMethod.Put, "packages/big/1.0.0/files/model.onnx") { Content = new ByteArrayContent(new byte[64_000_001]) };
        request.Headers.ExpectContinue = true;
        using var response = await _fleet.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("over the 64000000 a package file may have", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://fleet.example:5000", false)]
    [InlineData("http://10.0.0.5:5000", false)]
    [InlineData("https://fleet.example:5443", true)]
    [InlineData("http://127.0.0.1:5000", true)]
    public void APublicUrlOfPlainHttpOffThisMachine_IsRefusedAtStart(string url, bool accepted)
    {
        var result = new EdgeInference.Fleet.Hosting.FleetOptionsValidator().Validate(null, new EdgeInference.Fleet.Hosting.FleetOptions { PublicUrl = url });
        Assert.Equal(accepted, result.Succeeded);
        if (!accepted)
        {
            Assert.Contains("devices take package URLs only over https", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("BrokerAdmin=rabbit", "Fleet:BrokerAdmin (--broker-admin) 'rabbit' is not none, mosquitto or rabbitmq")]
    [InlineData("BrokerAdmin=mosquitto", "Fleet:BrokerAdmin (--broker-admin) mosquitto needs the broker (--mqtt-url)")]
    [InlineData("BrokerAdmin=rabbitmq;MqttUrl=mqtt://rabbit:1883;MqttUsername=fleet", "rabbitmq needs the broker (--mqtt-url), its management API (--broker-admin-url")]
    [InlineData("BrokerAdminUrl=ftp://rabbit:15672", "Fleet:BrokerAdminUrl (--broker-admin-url) 'ftp://rabbit:15672' is not an http(s) URL")]
    [InlineData("MqttUrl=mqtt://a:1883,tcp://b:1883", "Fleet:MqttUrl (--mqtt-url) 'tcp://b:1883' is not mqtt://host:port")]
    [InlineData("MqttProtocol=4", "Fleet:MqttProtocol (--mqtt-protocol) '4' is not 5 or 3.1.1")]
    [InlineData("MqttProtocol=3.1.1;MqttUrl=mqtt://rabbit:1883", "3.1.1 has no shared subscriptions")]
    [InlineData("AmqpUrl=amqp://fleet:pw@rabbit:5672/", "Fleet:AmqpUrl (--amqp-url) is RabbitMQ's: it needs the same cluster's MQTT listener (--mqtt-url)")]
    [InlineData("AmqpUrl=http://rabbit:5672;MqttUrl=mqtt://rabbit:1883", "Fleet:AmqpUrl (--amqp-url) 'http://rabbit:5672' is not amqp://")]
    [InlineData("PublishTimeout=00:00:00", "Fleet:PublishTimeout must be positive")]
    [InlineData("HistoryRetention=12:00:00", "Fleet:HistoryRetention 12:00:00 must be between 1 and 3660 days")]
    [InlineData("HistoryRetention=4000.00:00:00", "Fleet:HistoryRetention 4000.00:00:00 must be between 1 and 3660 days")]
    public void ScaleOutSettingsOutOfRange_AreRefusedAtStart_NamingTheSetting(string settings, string message)
    {
        var options = new EdgeInference.Fleet.Hosting.FleetOptions();
        foreach (var (name, value) in settings.Split(';').Select(s => s.Split('=', 2)).Select(p => (p[0], p[1])))
        {
            _ = name switch
            {
                "BrokerAdmin" => options.BrokerAdmin = value,
                "BrokerAdminUrl" => options.BrokerAdminUrl = value,
                "MqttUrl" => options.MqttUrl = value,
                "MqttUsername" => options.MqttUsername = value,
                "MqttProtocol" => options.MqttProtocol = value,
                "AmqpUrl" => options.AmqpUrl = value,
                "PublishTimeout" => (options.PublishTimeout = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)).ToString(),
                "HistoryRetention" => (options.HistoryRetention = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)).ToString(),
                _ => throw new ArgumentException(name),
            };
        }

        var result = new EdgeInference.Fleet.Hosting.FleetOptionsValidator().Validate(null, options);

        Assert.False(result.Succeeded);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Durations_OverAYear_AreFormatErrors_NotOverflows()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), RolloutParser.ParseDuration("5m", "soak"));
        Assert.Equal(TimeSpan.FromDays(366), RolloutParser.ParseDuration("8784h", "soak"));
        Assert.Throws<FormatException>(() => RolloutParser.ParseDuration("8785h", "soak"));
        Assert.Throws<FormatException>(() => RolloutParser.ParseDuration("1e12s", "soak"));
        Assert.Throws<FormatException>(() => RolloutParser.ParseDuration("NaNs", "soak"));
    }

    private async Task<(HttpStatusCode Status, string? Error)> SendAsync(HttpMethod method, string path, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await _fleet.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length > 0, $"{(int)response.StatusCode} with an empty body");
        return (response.StatusCode, JsonNode.Parse(text)?["error"]?.GetValue<string>());
    }
}
