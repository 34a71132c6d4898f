<?php
/*
 * voipbridge-fusionpbx-api: a small client for FreeSWITCH's event socket (mod_event_socket).
 *
 * The inbound text protocol: the switch greets with "Content-Type: auth/request", the client
 * answers "auth PASSWORD", then sends "api CMD", "bgapi CMD" or "sendevent NAME" followed by
 * header lines, each ended by a blank line. Replies are header blocks, with a body of
 * Content-Length bytes for api/response. Failures raise VbapiSwitchError.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

class VbapiSwitchError extends RuntimeException
{
}

class VbapiEventSocket
{
	private $stream;
	private $where;

	/**
	 * Connect and authenticate.
	 */
	public function __construct($host, $port, $password, $timeout)
	{
		$this->where = "$host:$port";
		$errno = 0;
		$errstr = '';
		$stream = @fsockopen($host, (int) $port, $errno, $errstr, $timeout);
		if ($stream === false) {
			throw new VbapiSwitchError("cannot connect to FreeSWITCH's event socket at {$this->where}: $errstr");
		}
		$this->stream = $stream;
		stream_set_timeout($this->stream, (int) $timeout);
		$greeting = $this->read();
		if ($greeting['headers']['Content-Type'] !== 'auth/request') {
			throw new VbapiSwitchError("the event socket at {$this->where} did not ask for a password");
		}
		$reply = $this->send("auth $password");
		if (strpos($reply['headers']['Reply-Text'], '+OK') !== 0) {
			throw new VbapiSwitchError("the event socket at {$this->where} refused the password (switch.event_socket.password in config.conf)");
		}
	}

	/**
	 * Run an API command and return its output.
	 */
	public function api($command)
	{
		$reply = $this->send('api ' . self::line($command));
		return $reply['body'];
	}

	/**
	 * Start an API command in the background and return the switch's reply line.
	 */
	public function bgapi($command)
	{
		$reply = $this->send('bgapi ' . self::line($command));
		return $reply['headers']['Reply-Text'];
	}

	/**
	 * Fire an event of type $name with $headers and return the switch's reply line.
	 */
	public function sendevent($name, $headers)
	{
		$text = 'sendevent ' . self::line($name);
		foreach ($headers as $key => $value) {
			$text .= "\n" . self::line($key) . ': ' . self::line($value);
		}
		$reply = $this->send($text);
		return $reply['headers']['Reply-Text'];
	}

	/**
	 * Say goodbye and close the connection.
	 */
	public function close()
	{
		if ($this->stream !== null) {
			@fwrite($this->stream, "exit\n\n");
			@fclose($this->stream);
			$this->stream = null;
		}
	}

	public function __destruct()
	{
		$this->close();
	}

	private static function line($text)
	{
		// A line break would start another command: refuse rather than send it.
		if (preg_match('/[\r\n]/', (string) $text)) {
			throw new VbapiSwitchError('refusing to send a line break inside an event socket command');
		}
		return (string) $text;
	}

	private function send($text)
	{
		if (@fwrite($this->stream, $text . "\n\n") === false) {
			throw new VbapiSwitchError("lost the event socket at {$this->where}");
		}
		do {
			$message = $this->read();
			// Events and log lines are not subscribed to, but skip any that arrive.
		} while (!in_array($message['headers']['Content-Type'], array('command/reply', 'api/response'), true));
		return $message;
	}

	private function read()
	{
		$headers = array('Content-Type' => '', 'Reply-Text' => '');
		while (true) {
			$line = fgets($this->stream);
			if ($line === false) {
				$meta = stream_get_meta_data($this->stream);
				$why = $meta['timed_out'] ? 'no answer in time' : 'connection closed';
				throw new VbapiSwitchError("the event socket at {$this->where}: $why");
			}
			$line = rtrim($line, "\r\n");
			if ($line === '') {
				if ($headers['Content-Type'] === '') {
					continue;
				}
				break;
			}
			$colon = strpos($line, ':');
			if ($colon !== false) {
				$headers[substr($line, 0, $colon)] = trim(substr($line, $colon + 1));
			}
		}
		$body = '';
		$length = isset($headers['Content-Length']) ? (int) $headers['Content-Length'] : 0;
		while (strlen($body) < $length) {
			$chunk = fread($this->stream, $length - strlen($body));
			if ($chunk === false || $chunk === '') {
				throw new VbapiSwitchError("the event socket at {$this->where} cut a reply short");
			}
			$body .= $chunk;
		}
		if ($headers['Content-Type'] === 'text/disconnect-notice') {
			throw new VbapiSwitchError("the event socket at {$this->where} disconnected");
		}
		return array('headers' => $headers, 'body' => $body);
	}
}

/**
 * Connect to the event socket FusionPBX's configuration names (default 127.0.0.1:8021).
 */
function vbapi_event_socket($context)
{
	$config = $context['config'];
	return new VbapiEventSocket(
		vbapi_config_value($config, array('switch.event_socket.host', 'event_socket.ip_address'), '127.0.0.1'),
		vbapi_config_value($config, array('switch.event_socket.port', 'event_socket.port'), '8021'),
		vbapi_config_value($config, array('switch.event_socket.password', 'event_socket.password'), 'ClueCon'),
		$context['settings']['event_socket_timeout']
	);
}
