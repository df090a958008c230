<?php

defined('BASEPATH') or exit('No direct script access allowed');

/** The panel's calls into Perfex, authenticated with the module's bearer token. */
class Pxflask_api extends App_Controller
{
    /** POST a payment that came from Xero; Perfex's payment model records it. */
    public function payments()
    {
        return $this->json_post('pxflask_record_payment');
    }

    /** POST an invoice or credit note made in Xero; Perfex's invoice or credit-note model adds it. */
    public function documents()
    {
        return $this->json_post('pxflask_create_document');
    }

    /** Check the method and the bearer token, hand the JSON body to $handler, answer. */
    private function json_post($handler)
    {
        if ($this->input->method() !== 'post') {
            return $this->answer(405, ['error' => 'POST only']);
        }
        if (!pxflask_bearer_ok($this->input->get_request_header('Authorization'))) {
            return $this->answer(401, ['error' => 'invalid or missing bearer token']);
        }
        $body = json_decode((string) $this->input->raw_input_stream, true);
        if (!is_array($body)) {
            return $this->answer(400, ['error' => 'send a JSON object']);
        }
        [$status, $answer] = $handler($body);
        return $this->answer($status, $answer);
    }

    /** A JSON answer with its status. */
    private function answer($status, $body)
    {
        $this->output->set_status_header($status)
            ->set_content_type('application/json')
            ->set_output(json_encode($body));
    }
}
