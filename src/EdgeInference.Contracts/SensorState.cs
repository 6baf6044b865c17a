using System.Text.Json.Serialization;

namespace EdgeInference.Contracts;

/// <summary>Whether a sensor answered the agent's last attempt to open or read it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SensorState>))]
public enum SensorState
{
    /// <summary>Its last read succeeded.</summary>
    [JsonStringEnumMemberName("ok")]
    Ok,

    /// <summary>Its last open or read failed (no answer on the bus, a wrong chip, a missing bus); the agent keeps trying.</summary>
    [JsonStringEnumMemberName("not_answering")]
    NotAnswering,
}
