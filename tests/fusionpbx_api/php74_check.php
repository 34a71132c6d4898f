<?php
// Prints, one per line, PHP 8-only syntax and functions found in the files given as arguments
// (token-based, so strings and comments never count). Used by test_php_sources.py: the php CLI
// in the tests is 8.x, and the scripts must also run on the PHP 7.4 of older FusionPBX hosts.
$php8_tokens = array('T_MATCH', 'T_NULLSAFE_OBJECT_OPERATOR', 'T_ATTRIBUTE', 'T_ENUM', 'T_READONLY');
$php8_functions = array(
	'str_contains', 'str_starts_with', 'str_ends_with', 'get_debug_type', 'fdiv',
	'get_resource_id', 'preg_last_error_msg', 'array_is_list', 'enum_exists',
);
$skip = array(T_WHITESPACE, T_COMMENT, T_DOC_COMMENT);
foreach (array_slice($argv, 1) as $file) {
	$tokens = array_values(array_filter(token_get_all(file_get_contents($file)), function ($token) use ($skip) {
		return !is_array($token) || !in_array($token[0], $skip, true);
	}));
	foreach ($tokens as $i => $token) {
		$line = is_array($token) ? $token[2] : '?';
		$next = isset($tokens[$i + 1]) ? $tokens[$i + 1] : null;
		$previous = $i > 0 ? $tokens[$i - 1] : null;
		if (is_array($token)) {
			foreach ($php8_tokens as $name) {
				if (defined($name) && $token[0] === constant($name)) {
					echo "$file:$line: $name\n";
				}
			}
			if ($token[0] === T_STRING && $next === '(' && in_array(strtolower($token[1]), $php8_functions, true)) {
				echo "$file:$line: PHP 8 function {$token[1]}()\n";
			}
			if ($token[0] === T_STRING && $next === ':' && ($previous === '(' || $previous === ',')) {
				echo "$file:$line: named argument {$token[1]}:\n";
			}
			if ($token[0] === T_CATCH) {
				$j = $i + 2;
				$variable = false;
				while (isset($tokens[$j]) && $tokens[$j] !== ')') {
					$variable = $variable || (is_array($tokens[$j]) && $tokens[$j][0] === T_VARIABLE);
					$j++;
				}
				if (!$variable) {
					echo "$file:$line: catch without a variable\n";
				}
			}
			if ($token[0] === T_THROW && (in_array($previous, array('?', '=', ',', '('), true)
				|| (is_array($previous) && in_array($previous[0], array(T_COALESCE, T_DOUBLE_ARROW), true)))) {
				echo "$file:$line: throw as an expression\n";
			}
		}
	}
}
