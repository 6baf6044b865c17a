using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Whether a device is connected, as its retained status says (<c>offline</c> comes from its last will).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConnectionState>))]
public enum ConnectionState
{
    [JsonStringEnumMemberName("online")]
    Online,

    [JsonStringEnumMemberName("offline")]
    Offline,
}
