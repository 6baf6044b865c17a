using MQTTnet.Diagnostics.Logger;
using MQTTnet.Server;

namespace EdgeInference.Testing;

/// <summary>MQTTnet's own broker in the test process on a free loopback port; it keeps the errors it logs so tests can fail on them.</summary>
public sealed class InProcessBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly ErrorCollectingLogger _logger = new();

    private InProcessBroker(int port)
    {
        Port = port;
        var options = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions()
            .Build();
        _server = new MqttServerFactory(_logger).CreateMqttServer(options);
    }

    public int Port { get; }

    public string Url => $"mqtt://127.0.0.1:{Port}";

    public MqttServer Server => _server;

    /// <summary>Errors the broker logged.</summary>
    public IReadOnlyList<string> Errors => _logger.Errors;

    public static async Task<InProcessBroker> StartAsync()
    {
        var broker = new InProcessBroker(FreePort.Next());
        await broker._server.StartAsync();
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }

    private sealed class ErrorCollectingLogger : IMqttNetLogger
    {
        private readonly List<string> _errors = [];

        public bool IsEnabled => true;

        public IReadOnlyList<string> Errors
        {
            get
            {
                lock (_errors)
                {
                    return _errors.ToArray();
                }
            }
        }

        public void Publish(MqttNetLogLevel logLevel, string source, string message, object[]? parameters, Exception? exception)
        {
            if (logLevel == MqttNetLogLevel.Error)
            {
                lock (_errors)
                {
                    _errors.Add($"{source}: {(parameters is { Length: > 0 } ? string.Format(System.Globalization.CultureInfo.InvariantCulture, message, parameters) : message)} {exception?.Message}");
                }
            }
        }
    }
}
